"""nltk.lm parity of lmlib.ngram on the course corpus: prints the largest probability difference.

    .venv/bin/python scripts/nltk_parity.py

MLE and Laplace against nltk's MLE / Laplace (first 200 test sentences), Kneser-Ney
(discount 0.75) against nltk's KneserNeyInterpolated (every test sentence), orders 2 and 3,
one probability per chain-rule factor of the test split (unknown words and unseen contexts
included). Both sides use the same vocabulary: every token of the padded training text.

Kneser-Ney has one documented difference (NGramLM._kn_prob): for the first word of a
sentence at order 3, P(w | <s> <s>), nltk's lower-order weight counts <s> as a next word of
<s>, so nltk = ours + D**2 / (number of sentences) * P_nltk(w) (nltk's continuation unigram);
its P(. | <s> <s>) sums to 1 + D**2 / (number of sentences). The script prints the raw
difference of those factors and the difference after adding that term.
Order 1: nltk's KneserNeyInterpolated(1) divides 0 by 0 (no bigrams), lmlib's is the MLE unigram.
"""
from nltk.lm import MLE, KneserNeyInterpolated, Laplace
from nltk.util import everygrams

from lmlib.data import course_split
from lmlib.ngram import NGramLM

D = 0.75
train, test = course_split()
for order in (2, 3):
    padded = [["<s>"] * (order - 1) + s + ["</s>"] for s in train]
    for name, make_ref, ours in (
            ("mle", lambda: MLE(order), NGramLM(order, "mle")),
            ("laplace", lambda: Laplace(order), NGramLM(order, "laplace")),
            ("kneser-ney", lambda: KneserNeyInterpolated(order, discount=D),
             NGramLM(order, "kneser-ney", discount=D))):
        ref = make_ref()
        ref.fit([list(everygrams(s, max_len=order)) for s in padded],
                vocabulary_text=[t for s in padded for t in s])
        ours.fit(train)

        def nl(t):
            return t if t in ref.vocab else "<UNK>"

        worst, start_raw, start_fixed, n, n_start, n_unseen, n_oov = 0.0, 0.0, 0.0, 0, 0, 0, 0
        for s in test if name == "kneser-ney" else test[:200]:
            p = ["<s>"] * (order - 1) + s + ["</s>"]
            for j in range(order - 1, len(p)):
                ctx, w = p[j - order + 1:j], p[j]
                a = ours.prob(w, [t for t in ctx if t != "<s>"])
                b = ref.score(nl(w), [nl(c) for c in ctx])
                n += 1
                n_oov += w not in ref.vocab
                n_unseen += not ref.counts[tuple(nl(c) for c in ctx)]
                if name == "kneser-ney" and order >= 3 and set(ctx) == {"<s>"}:
                    n_start += 1
                    start_raw = max(start_raw, abs(a - b))
                    start_fixed = max(start_fixed,
                                      abs(a + D ** 2 / len(train) * ref.score(nl(w)) - b))
                else:
                    worst = max(worst, abs(a - b))
        print(f"order={order} {name:10s} |V| ours={len(ours.vocab)} nltk={len(ref.vocab)}  "
              f"{n} test probabilities ({n_unseen} with an unseen context, {n_oov} of unknown "
              f"words), max |diff| = {worst:.3g}")
        if n_start:
            print(f"{'':25s}{n_start} of them sentence starts P(w | <s> <s>), not in the max "
                  f"above: raw max |diff| = {start_raw:.3g}, after adding nltk's extra "
                  f"D^2/#sentences * P_nltk(w): {start_fixed:.3g}")

# order 1: nltk has no Kneser-Ney unigram model; lmlib's equals its MLE unigram
kn1, mle1 = NGramLM(1, "kneser-ney").fit(train), NGramLM(1).fit(train)
words = [w for s in test for w in s + ["</s>"]]
try:
    ref = KneserNeyInterpolated(1, discount=D)
    ref.fit([list(everygrams(s + ["</s>"], max_len=1)) for s in train],
            vocabulary_text=[t for s in train for t in s + ["</s>"]])
    ref.score(words[0])
    nltk1 = "gives a number (unexpected)"
except ZeroDivisionError:
    nltk1 = "raises ZeroDivisionError"
print(f"order=1 kneser-ney  nltk {nltk1}; lmlib = MLE unigram on {len(words)} test tokens, "
      f"max |diff| = {max(abs(kn1.prob(w) - mle1.prob(w)) for w in words):.3g}")
