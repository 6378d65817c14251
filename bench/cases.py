"""The benchmarks: lmlib against an independent reference, same inputs, same run.

Every function takes `size` ("tiny" for the unit test, "default" for the table,
"large" for a closer look) and `repeat`, and returns a list of bench.core.Row.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from pathlib import Path

import torch

from .core import MIN_PAIRS, Row, compare

SIZES = ("tiny", "default", "large")


def _check_size(size: str) -> str:
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    return size


def _max_diff(pairs) -> float:
    """Largest |a - b| over pairs of tensors (or floats)."""
    worst = 0.0
    for a, b in pairs:
        if isinstance(a, torch.Tensor):
            worst = max(worst, float((a.detach().float() - b.detach().float()).abs().max()))
        else:
            worst = max(worst, abs(a - b))
    return worst


# ---- 1. n-gram models vs nltk.lm ---------------------------------------------------------
def ngram_corpus(n_tokens: int, seed: int = 0) -> tuple[list[list[str]], str]:
    """Whitespace-tokenised NSMC train reviews up to n_tokens words (a Zipf corpus without NSMC).

    Nothing is downloaded: NSMC is read only from $LMLIB_NSMC_DIR or lmlib's cache.
    """
    try:
        from lmlib.data import load_nsmc

        reviews = load_nsmc("train", download=False)
        sents, total = [], 0
        for r in reviews:
            words = r.document.split()
            if words:
                sents.append(words)
                total += len(words)
                if total >= n_tokens:
                    break
        if total >= n_tokens:
            return sents, f"NSMC train reviews, {total:,} words"
    except (FileNotFoundError, OSError):
        pass
    rng = random.Random(seed)  # no NSMC here: Zipf-distributed words, review-length sentences
    vocab = [f"w{i}" for i in range(20_000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    sents, total = [], 0
    while total < n_tokens:
        s = rng.choices(vocab, weights, k=rng.randint(3, 15))
        sents.append(s)
        total += len(s)
    return sents, f"synthetic Zipf corpus (no NSMC found), {total:,} words"


def bench_ngram(size: str = "default", repeat: int = MIN_PAIRS) -> list[Row]:
    """Fit + score, bigram and trigram, MLE and Laplace: lmlib.ngram.NGramLM vs nltk.lm.

    nltk's fit alone takes 6-12 s on 500k words, so the MIN_PAIRS paired runs the interval
    needs make this the slowest benchmark (several minutes).
    """
    from nltk.lm import MLE, Laplace
    from nltk.util import everygrams

    from lmlib.ngram import NGramLM
    from lmlib.text import BOS, EOS

    n_tokens = {"tiny": 5_000, "default": 500_000, "large": 1_000_000}[_check_size(size)]
    sents, source = ngram_corpus(n_tokens)
    n_test = max(1, len(sents) // 20)
    train, test = sents[n_test:], sents[:n_test]  # score held-out sentences (unseen words too)

    rows = []
    for order in (2, 3):
        # the scored factors: every (word, context) of the padded test sentences
        queries = []
        for s in test:
            padded = [BOS] * (order - 1) + s + [EOS]
            for j in range(order - 1, len(padded)):
                queries.append((padded[j], padded[j - order + 1:j]))
        for smoothing, ref_cls in (("mle", MLE), ("laplace", Laplace)):
            result = {}

            def ours():
                lm = NGramLM(order, smoothing).fit(train)
                result["ours"] = [lm.prob(w, ctx) for w, ctx in queries]

            def ref():
                padded = [[BOS] * (order - 1) + s + [EOS] for s in train]
                lm = ref_cls(order)
                lm.fit([list(everygrams(s, max_len=order)) for s in padded],
                       vocabulary_text=[w for s in padded for w in s])
                result["ref"] = [lm.score(w, tuple(ctx)) for w, ctx in queries]

            t_ours, t_ref = compare(ours, ref, repeat=repeat, warmup=0)
            ours_p, ref_p = result["ours"], result["ref"]
            rows.append(Row(
                "n-gram fit + score", f"{order}-gram {smoothing}, {len(queries):,} scores",
                t_ours, t_ref, "nltk.lm", "≥ 20x faster", min_speedup=20.0,
                diff=_max_diff(zip(ours_p, ref_p)), tol=1e-12,
                extra={"corpus": source, "train_sentences": len(train),
                       "nonzero_scores": sum(p > 0 for p in ours_p)}))
        rows.append(_kneser_ney_row(order, train, queries, source, size, repeat))
    return rows


def _kneser_ney_row(order: int, train, queries, source: str, size: str, repeat: int) -> Row:
    """Interpolated Kneser-Ney (D = 0.75): NGramLM(order, "kneser-ney") vs nltk's
    KneserNeyInterpolated, fit + score. nltk computes every score from its counts again
    (0.2-0.3 s each on 500k words), so this row scores only the first queries.

    The probabilities agree except where the whole context is BOS (order >= 3): nltk counts
    BOS as a next word of all-BOS lower-order contexts (from the padding), so its
    P(. | BOS BOS) sums to a little over 1 (NGramLM._kn_prob's docstring); the row's
    difference is over the other queries and the note says how many were left out.
    """
    from nltk.lm import KneserNeyInterpolated
    from nltk.util import everygrams

    from lmlib.ngram import NGramLM
    from lmlib.text import BOS, EOS

    queries = queries[:{"tiny": 20, "default": 40, "large": 80}[size]]
    result = {}

    def ours():
        lm = NGramLM(order, "kneser-ney", discount=0.75).fit(train)
        result["ours"] = [lm.prob(w, ctx) for w, ctx in queries]

    def ref():
        padded = [[BOS] * (order - 1) + s + [EOS] for s in train]
        lm = KneserNeyInterpolated(order, discount=0.75)
        lm.fit([list(everygrams(s, max_len=order)) for s in padded],
               vocabulary_text=[w for s in padded for w in s])
        result["ref"] = [lm.score(w, tuple(ctx)) for w, ctx in queries]

    t_ours, t_ref = compare(ours, ref, repeat=repeat, warmup=0)
    compared = [(o, r) for o, r, (_, ctx) in zip(result["ours"], result["ref"], queries)
                if order == 2 or any(t != BOS for t in ctx)]
    return Row(
        "n-gram fit + score", f"{order}-gram kneser-ney D=0.75, {len(queries):,} scores",
        t_ours, t_ref, "nltk.lm KneserNeyInterpolated", "≥ 20x faster", min_speedup=20.0,
        diff=_max_diff(compared), tol=1e-9,
        note=(f"probabilities compared at {len(compared)} of {len(queries)} queries: "
              f"the {len(queries) - len(compared)} with an all-BOS context differ by design "
              f"(nltk's P(. | BOS BOS) sums to over 1)" if len(compared) < len(queries) else ""),
        extra={"corpus": source, "train_sentences": len(train)})


def bench_kenlm(size: str = "default", repeat: int = MIN_PAIRS) -> list[Row]:
    """Scoring held-out sentences with one interpolated Kneser-Ney model, bigram and trigram:
    NGramLM.sentence_logprobs vs KenLM's C++ query (kenlm.Model.score) on the same model,
    exported with NGramLM.write_arpa. Each side gets its own input form, made before timing
    (token lists; space-joined lines for KenLM); each timed call scores the test set 5 times.

    kenlm is built from PyPI for the benchmarks only: pip install -r bench/requirements.txt.
    """
    import tempfile

    try:
        import kenlm
    except ImportError as err:
        raise ImportError("the kenlm benchmark needs KenLM's Python module: "
                          "pip install -r bench/requirements.txt (builds kenlm from PyPI)") from err

    from lmlib.ngram import NGramLM, rare_to_unk

    n_tokens = {"tiny": 5_000, "default": 500_000, "large": 1_000_000}[_check_size(size)]
    sents, source = ngram_corpus(n_tokens)
    n_test = max(1, len(sents) // 20)
    train, test = rare_to_unk(sents[n_test:], sents[:n_test])  # unseen words become <unk>
    lines = [" ".join(s) for s in test]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for order in (2, 3):
            lm = NGramLM(order, "kneser-ney", discount=0.75).fit(train)
            arpa = Path(tmp) / f"{order}.arpa"
            lm.write_arpa(arpa)
            model = kenlm.Model(str(arpa))
            result = {}

            def ours():
                for _ in range(5):
                    result["ours"] = lm.sentence_logprobs(test)

            def ref():
                for _ in range(5):
                    result["ref"] = [model.score(line, bos=True, eos=True) for line in lines]

            t_ours, t_ref = compare(ours, ref, repeat=repeat, warmup=1)
            log10 = [lp / math.log(10) for lp in result["ours"]]  # KenLM scores in log10
            rows.append(Row(
                "n-gram scoring", f"{order}-gram kneser-ney D=0.75, {len(test):,} sentences "
                f"({sum(map(len, test)) + len(test):,} factors) x 5", t_ours, t_ref,
                "KenLM query (C++)", "≤ 3x", max_ratio=3.0,
                diff=_max_diff(zip(log10, result["ref"])), tol=1e-4,
                note="sentence log10 probabilities; KenLM stores them in float32",
                extra={"corpus": source, "train_sentences": len(train)}))
    return rows


# ---- 2. attention: explicit vs torch's fused kernel ---------------------------------------
def bench_attention(size: str = "default", repeat: int = 10) -> list[Row]:
    """Forward + backward of softmax(QK^T/sqrt d + mask)V: lmlib's explicit path vs fused SDPA."""
    import torch.nn.functional as F

    from lmlib.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention

    B, H, T, D = {"tiny": (2, 2, 16, 8), "default": (32, 4, 128, 32),
                  "large": (32, 8, 512, 64)}[_check_size(size)]
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(B, H, T, D, generator=g) for _ in range(3))
    grad = torch.randn(B, H, T, D, generator=g)
    rows = []
    for causal in (False, True):
        mask = causal_mask(T) if causal else None
        leaves = {}

        def run(fn, key):
            qq, kk, vv = (x.clone().requires_grad_() for x in (q, k, v))
            out = fn(qq, kk, vv)
            out.backward(grad)
            leaves[key] = (out, qq.grad, kk.grad, vv.grad)

        def ours():
            run(lambda a, b, c: scaled_dot_product_attention(a, b, c, mask)[0], "ours")

        def ref():
            run(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=causal), "ref")

        t_ours, t_ref = compare(ours, ref, repeat=repeat)
        rows.append(Row("attention fwd+bwd", f"B{B} H{H} T{T} D{D}, "
                        f"{'causal' if causal else 'no'} mask, explicit (weights kept)",
                        t_ours, t_ref, "torch SDPA", "≤ 1.1x", max_ratio=1.1,
                        diff=_max_diff(zip(leaves["ours"], leaves["ref"])), tol=1e-5))

    # lmlib's module takes the fused kernel whenever the weights are not asked for
    real_sdpa, calls = F.scaled_dot_product_attention, Counter()

    def counting(*a, **kw):
        calls["fused"] += 1
        return real_sdpa(*a, **kw)

    mha = MultiHeadAttention(H * D, H).eval()
    x = torch.randn(B, T, H * D, generator=g)
    F.scaled_dot_product_attention = counting
    try:
        with torch.no_grad():
            y_fused, _ = mha(x, x, causal_mask(T))
            without = calls["fused"]
            y_expl, _ = mha(x, x, causal_mask(T), return_attn=True)
            with_weights = calls["fused"] - without
    finally:
        F.scaled_dot_product_attention = real_sdpa
    rows.append(Row("attention fwd+bwd", "MultiHeadAttention: which kernel runs (not timed)",
                    [0.0], goal="fused when no weights",
                    diff=_max_diff([(y_fused, y_expl)]) if without == 1 and with_weights == 0
                    else math.inf, tol=1e-5,
                    note=f"fused calls: {without} without weights, {with_weights} with"))
    return rows


# ---- 3. a GPT training step vs Hugging Face GPT-2 -----------------------------------------
def _hf_gpt2(config):
    """A transformers GPT2LMHeadModel with the sizes of an lmlib GPTConfig (random weights)."""
    import transformers

    hf_config = transformers.GPT2Config(
        vocab_size=config.vocab_size, n_positions=config.max_len, n_embd=config.d_model,
        n_layer=config.n_layers, n_head=config.n_heads, n_inner=config.d_ff,
        resid_pdrop=config.dropout, embd_pdrop=config.dropout, attn_pdrop=config.dropout,
        layer_norm_epsilon=config.layer_norm_eps, activation_function="gelu_new",
        bos_token_id=config.eos_id, eos_token_id=config.eos_id)
    return transformers.GPT2LMHeadModel(hf_config)


def bench_gpt_train_step(size: str = "default", repeat: int = 10) -> list[Row]:
    """One AdamW step (forward, loss, backward, update) on the same weights and batch."""
    import torch.nn.functional as F

    from lmlib.gpt import GPT, GPTConfig

    B, T, V, C, L = {"tiny": (2, 16, 50, 32, 2), "default": (32, 128, 1500, 128, 4),
                     "large": (32, 256, 8000, 256, 6)}[_check_size(size)]
    config = GPTConfig(vocab_size=V, max_len=T, d_model=C, n_heads=4, n_layers=L, dropout=0.0)
    torch.manual_seed(0)
    hf = _hf_gpt2(config).train()
    ours = GPT.from_hf(hf).train()
    data = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(0))
    x, y = data[:, :-1], data[:, 1:]
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-3, weight_decay=0.01)
    opt_hf = torch.optim.AdamW(hf.parameters(), lr=1e-3, weight_decay=0.01)
    losses: dict[str, list[float]] = {"ours": [], "ref": []}

    def step_ours():
        opt_ours.zero_grad(set_to_none=True)
        loss = ours(x, y).loss
        loss.backward()
        opt_ours.step()
        losses["ours"].append(loss.item())

    def step_ref():  # the same loss, written out: HF's labels= would shift and drop a position
        opt_hf.zero_grad(set_to_none=True)
        logits = hf(input_ids=x).logits
        loss = F.cross_entropy(logits.view(-1, V), y.reshape(-1))
        loss.backward()
        opt_hf.step()
        losses["ref"].append(loss.item())

    t_ours, t_ref = compare(step_ours, step_ref, repeat=repeat, warmup=2)
    # both started from the same weights and saw the same batch: the losses agree step by step
    return [Row("GPT training step", f"L{L} H4 C{C} T{T} B{B} V{V}, AdamW", t_ours, t_ref,
                "transformers GPT2LMHeadModel", "≤ 1.0x", max_ratio=1.0,
                diff=_max_diff(zip(losses["ours"], losses["ref"])), tol=1e-4,
                note=f"loss after {len(losses['ours'])} steps {losses['ours'][-1]:.3f}")]


# ---- 3b. the pretraining scripts' step at the shipped sizes vs transformers ------------------
def _adamw(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """The optimizer of lmlib.pretrain.train_steps: weight decay on matrices only, betas 0.9/0.95."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def _shipped_config(name: str) -> dict:
    import json

    from lmlib.data import checkpoint_dir

    return json.loads((checkpoint_dir(name) / "config.json").read_text(encoding="utf-8"))["config"]


def _paired_training(ours: torch.nn.Module, ours_loss, ref: torch.nn.Module, ref_loss, lr: float,
                     weight_decay: float, repeat: int):
    """Time AdamW steps of two models alternately: (lmlib seconds, reference seconds, the
    largest difference between their losses step by step)."""
    losses: dict[str, list[float]] = {"ours": [], "ref": []}

    def stepper(model, loss_fn, out):
        opt = _adamw(model, lr, weight_decay)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn()
            loss.backward()
            opt.step()
            out.append(loss.item())
        return step

    t_ours, t_ref = compare(stepper(ours, ours_loss, losses["ours"]),
                            stepper(ref, ref_loss, losses["ref"]), repeat=repeat, warmup=2)
    return t_ours, t_ref, _max_diff(zip(losses["ours"], losses["ref"]))


def bench_pretrain_throughput(size: str = "default", repeat: int = MIN_PAIRS) -> list[Row]:
    """Tokens per second of one training step of scripts/pretrain_gpt.py and
    scripts/pretrain_bert.py at the shipped models' sizes and the scripts' batches, against
    transformers' GPT2LMHeadModel / BertForPreTraining at the same configuration, batch,
    optimizer (AdamW as lmlib.pretrain.train_steps) and threads, on the same weights.

    Dropout is 0 in both, so the losses agree and can be compared step by step (the shipped
    BERT trained with dropout 0.1). lmlib's BERT step is BertForPreTraining.pretraining_loss,
    which computes the MLM head only at the masked positions, as scripts/pretrain_bert.py
    does; the reference computes it everywhere, as transformers' labels= does.
    """
    import torch.nn.functional as F
    import transformers

    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.gpt import GPT, GPTConfig

    tiny = dict(vocab_size=60, max_len=16, d_model=32, n_heads=2, n_layers=1, d_ff=64)
    rows = []

    def row(what, config, B, timed, ref_name):
        t_ours, t_ref, diff = timed
        tokens = B * config.max_len
        rows.append(Row(
            "pretraining step", f"{what} sizes: L{config.n_layers} C{config.d_model} "
            f"T{config.max_len} V{config.vocab_size}), batch {B}, AdamW", t_ours, t_ref, ref_name,
            "≤ 1.0x", max_ratio=1.0, diff=diff, tol=1e-4,
            note=f"{tokens / statistics.median(t_ours):,.0f} vs "
                 f"{tokens / statistics.median(t_ref):,.0f} tokens/s",
            extra={"tokens_per_step": tokens}))

    # GPT: gpt_nsmc's config, pretrain_gpt.py's batch of 16 windows of max_len tokens
    config = GPTConfig(**dict(_shipped_config("gpt_nsmc"), dropout=0.0,
                              **(tiny if _check_size(size) == "tiny" else {})))
    B, T, V = (2 if size == "tiny" else 16), config.max_len, config.vocab_size
    torch.manual_seed(0)
    hf = _hf_gpt2(config).train()
    ours = GPT.from_hf(hf).train()
    data = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(0))
    x, y = data[:, :-1], data[:, 1:]
    row("GPT (gpt_nsmc", config, B, _paired_training(
        ours, lambda: ours(x, y).loss,  # what lmlib.pretrain.train_lm's batch_loss returns
        hf, lambda: F.cross_entropy(hf(input_ids=x).logits.view(-1, V), y.reshape(-1)),
        2e-3, 0.1, repeat), "transformers GPT2LMHeadModel")

    # BERT: bert_nsmc's config, pretrain_bert.py's batch of 64 pairs, 15% of tokens predicted
    config = BertConfig(**dict(_shipped_config("bert_nsmc"), dropout=0.0,
                               **(tiny if size == "tiny" else {})))
    B, T, V = (4 if size == "tiny" else 64), config.max_len, config.vocab_size
    torch.manual_seed(0)
    hf = transformers.BertForPreTraining(transformers.BertConfig(
        vocab_size=V, hidden_size=config.d_model, num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads, intermediate_size=config.d_ff,
        max_position_embeddings=T, type_vocab_size=config.type_vocab_size,
        layer_norm_eps=config.layer_norm_eps, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, pad_token_id=config.pad_id)).train()
    ours = BertForPreTraining.from_hf(hf).train()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(7, V, (B, T), generator=g)
    segments = (torch.arange(T) >= T // 2).long().expand(B, T).contiguous()
    mask = torch.ones_like(ids)
    chosen = torch.rand(B, T, generator=g) < 0.15
    chosen[:, 1] = True  # every pair predicts at least one token
    mlm_labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    nsp = torch.randint(0, 2, (B,), generator=g)
    row("BERT MLM + NSP (bert_nsmc", config, B, _paired_training(
        ours, lambda: ours.pretraining_loss(ids, segments, mask, mlm_labels, nsp),
        hf, lambda: hf(input_ids=ids, token_type_ids=segments, attention_mask=mask,
                       labels=mlm_labels, next_sentence_label=nsp).loss,
        1e-3, 0.01, repeat), "transformers BertForPreTraining")
    return rows


# ---- 4. GPT-2 small forward --------------------------------------------------------------
def bench_gpt2_forward(size: str = "default", repeat: int = 10) -> list[Row]:
    """Forward of GPT-2 small (124M, random weights: nothing is downloaded), B1 T128."""
    from lmlib.gpt import GPT, PRESETS, GPTConfig

    preset = dict(PRESETS["gpt2"])
    if size == "tiny":
        preset.update(vocab_size=100, d_model=32, n_heads=2, n_layers=2, eos_id=None)
    T = {"tiny": 16, "default": 128, "large": 1024}[_check_size(size)]
    torch.manual_seed(0)
    hf = _hf_gpt2(GPTConfig(**preset, dropout=0.0)).eval()
    ours = GPT.from_hf(hf).eval()
    idx = torch.randint(0, preset["vocab_size"], (1, T), generator=torch.Generator().manual_seed(0))
    out = {}

    @torch.no_grad()
    def run_ours():
        out["ours"] = ours(idx).logits

    @torch.no_grad()
    def run_ref():
        out["ref"] = hf(input_ids=idx).logits

    t_ours, t_ref = compare(run_ours, run_ref, repeat=repeat, warmup=2)
    params = sum(p.numel() for p in ours.parameters())
    return [Row("GPT-2 small forward", f"B1 T{T}, {params / 1e6:.0f}M parameters", t_ours, t_ref,
                "transformers GPT2LMHeadModel", "≤ 1.05x", max_ratio=1.05,
                diff=_max_diff([(out["ours"], out["ref"])]), tol=1e-4)]


# ---- 5. BERT-base forward ----------------------------------------------------------------
def bench_bert_forward(size: str = "default", repeat: int = 8) -> list[Row]:  # >= MIN_PAIRS
    """BERT-base encoder forward (random weights), with and without attention weights."""
    import transformers

    from lmlib.bert import BertModel

    lengths = {"tiny": (16,), "default": (128, 512), "large": (128, 512)}[_check_size(size)]
    B = 8 if size == "large" else 1
    sizes = dict(vocab_size=100, hidden_size=32, num_attention_heads=2, num_hidden_layers=2,
                 intermediate_size=64) if size == "tiny" else {}
    torch.manual_seed(0)
    hf = transformers.BertModel(transformers.BertConfig(**sizes)).eval()  # fused SDPA attention
    # HF returns attention weights only from its "eager" (written-out) attention
    hf_eager = transformers.BertModel(transformers.BertConfig(
        **sizes, attn_implementation="eager")).eval()
    hf_eager.load_state_dict(hf.state_dict())
    ours = BertModel.from_hf(hf).eval()
    rows = []
    for T in lengths:
        for with_attn in (False, True):
            g = torch.Generator().manual_seed(T)
            ids = torch.randint(0, hf.config.vocab_size, (B, T), generator=g)
            segments = torch.zeros_like(ids)
            mask = torch.ones_like(ids)
            out = {}

            @torch.no_grad()
            def run_ours():
                o = ours(ids, segments, mask, return_attn=with_attn)
                out["ours"] = [o.last_hidden_state, o.pooled] + (o.attentions or [])

            @torch.no_grad()
            def run_ref():
                o = (hf_eager if with_attn else hf)(
                    input_ids=ids, token_type_ids=segments, attention_mask=mask,
                    output_attentions=with_attn)
                out["ref"] = [o.last_hidden_state, o.pooler_output] + list(o.attentions or [])

            t_ours, t_ref = compare(run_ours, run_ref, repeat=repeat, warmup=1)
            if len(out["ours"]) != len(out["ref"]):
                raise RuntimeError(f"lmlib returned {len(out['ours'])} tensors, "
                                   f"transformers {len(out['ref'])}")
            rows.append(Row("BERT-base forward", f"B{B} T{T}, "
                            f"{'with' if with_attn else 'without'} attention weights", t_ours,
                            t_ref, "transformers BertModel" + (" (eager)" if with_attn else ""),
                            "≤ 1.05x", max_ratio=1.05,
                            diff=_max_diff(zip(out["ours"], out["ref"])), tol=1e-4))
    return rows


# ---- 6. generation with and without the key/value cache -----------------------------------
def bench_generation(size: str = "default", repeat: int = MIN_PAIRS) -> list[Row]:
    """New tokens up to the chapter-6 model's context (at most 200), greedy: with the KV cache
    vs recomputing all."""
    from lmlib.gpt import GPT, GPTConfig, load_course_model

    n_new = {"tiny": 20, "default": 200, "large": 200}[_check_size(size)]
    if size == "tiny":  # the unit test: a small random model, no checkpoint needed
        torch.manual_seed(0)
        model = GPT(GPTConfig(vocab_size=60, max_len=64, d_model=32, n_heads=2, n_layers=2)).eval()
        prompt, what = [5, 6, 7], "random GPT, T 64"
    else:
        model, tok, _ = load_course_model()
        prompt, what = tok.encode("발 없는 말이"), "chapter-6 model (gpt_nsmc)"
    batch = 8 if size == "large" else 1
    idx = torch.tensor([prompt] * batch)
    if size != "tiny":  # the whole context: 200 new tokens did not fit a 128-token model
        n_new = min(n_new, model.config.max_len - idx.size(1))
    if idx.size(1) + n_new > model.config.max_len:
        raise ValueError(f"the model's context ({model.config.max_len}) cannot hold "
                         f"{idx.size(1)} + {n_new} tokens")
    out = {}

    def cached():
        out["ours"] = model.generate(idx, n_new, greedy=True, eos_id=None, use_cache=True)

    def uncached():
        out["ref"] = model.generate(idx, n_new, greedy=True, eos_id=None, use_cache=False)

    t_ours, t_ref = compare(cached, uncached, repeat=repeat, warmup=1)
    same = torch.equal(out["ours"], out["ref"])
    return [Row("generation", f"{what}, B{batch}, prompt {len(prompt)} + {n_new} new tokens, "
                "greedy", t_ours, t_ref, "lmlib without KV cache", "≥ 3x faster",
                min_speedup=3.0, diff=0.0 if same else math.inf, tol=0.0,
                note="identical tokens" if same else "tokens differ")]


# ---- 7. threads for the chapters' tiny models ----------------------------------------
def _busy_core():
    """A process that keeps one core busy (a student's other program, a second CI job)."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def bench_tiny_threads(size: str = "default", repeat: int = MIN_PAIRS) -> list[Row]:
    """Chapter 5's training step (float64 Transformer, batch 64) with 1 thread vs 2 threads,
    on an idle machine and with one core busy: why chapters 3-5 call torch.set_num_threads(1)."""
    from lmlib.data import parallel_split
    from lmlib.seq2seq import pad_batch
    from lmlib.text import Vocab
    from lmlib.transformer import Transformer, TransformerConfig

    steps = {"tiny": 1, "default": 10, "large": 30}[_check_size(size)]
    pairs, _ = parallel_split()
    src_vocab = Vocab.build([s for s, _ in pairs], min_freq=2)
    tgt_vocab = Vocab.build([t for _, t in pairs], min_freq=2)
    config = TransformerConfig(len(src_vocab), len(tgt_vocab), d_model=64, n_heads=4, n_layers=2,
                               d_ff=128, dropout=0.1)
    torch.manual_seed(0)
    model = Transformer(config).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(len(pairs), (64,), generator=g).tolist()
    src, _ = pad_batch([src_vocab.encode(pairs[i][0]) for i in idx], config.pad_id)
    tgt_in, _ = pad_batch([tgt_vocab.encode(pairs[i][1], add_bos=True) for i in idx], config.pad_id)
    tgt_out, _ = pad_batch([tgt_vocab.encode(pairs[i][1], add_eos=True) for i in idx], config.pad_id)
    before = torch.get_num_threads()

    def run(threads):
        def go():
            torch.set_num_threads(threads)
            for _ in range(steps):
                opt.zero_grad(set_to_none=True)
                model.loss(src, tgt_in, tgt_out).backward()
                opt.step()
        return go

    rows = []
    try:
        for load in ("idle", "one core busy"):
            busy = _busy_core() if load == "one core busy" else None
            try:
                t1, t2 = compare(run(1), run(2), repeat=repeat, warmup=1)
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
            rows.append(Row("tiny-model threads", f"chapter-5 Transformer float64, {steps} training steps "
                            f"of batch 64, {load}: 1 thread", t1, t2, "2 threads",
                            "≤ 1.0x under load" if busy is not None else "(reported)",
                            max_ratio=1.0 if load == "one core busy" else None))
    finally:
        torch.set_num_threads(before)
    return rows
