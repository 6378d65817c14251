"""nltk.lm parity of lmlib.ngram on the course corpus: prints the largest probability difference.

    .venv/bin/python scripts/nltk_parity.py
"""
# nltk.lm parity on the course corpus (train split), MLE and Laplace, orders 2 and 3
from nltk.lm import MLE, Laplace
from nltk.util import everygrams
from lmlib.data import course_split
from lmlib.ngram import NGramLM
train, test = course_split()
for order in (2, 3):
    padded = [["<s>"] * (order - 1) + s + ["</s>"] for s in train]
    for name, cls, sm in (("mle", MLE, "mle"), ("laplace", Laplace, "laplace")):
        ref = cls(order); ref.fit([list(everygrams(s, max_len=order)) for s in padded], vocabulary_text=[t for s in padded for t in s])
        ours = NGramLM(order, sm).fit(train)
        worst, n = 0.0, 0
        for s in test[:200]:
            p = ["<s>"] * (order - 1) + s + ["</s>"]
            for j in range(order - 1, len(p)):
                ctx = p[j - order + 1:j]; w = p[j]
                a = ours.prob(w, [t for t in ctx if t != "<s>"] if order > 1 else [])
                b = ref.score(w if w in ref.vocab else "<UNK>", [c if c in ref.vocab else "<UNK>" for c in ctx])
                worst = max(worst, abs(a - b)); n += 1
        print(f"order={order} {name:8s} |V| ours={len(ours.vocab)} nltk={len(ref.vocab)}  {n} test probabilities, max |diff| = {worst:.3g}")
