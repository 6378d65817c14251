"""Transformer vs GRU + attention seq2seq on the course's Korean-English pairs, same budget (L11).

The lecture says the Transformer beats RNN translation models. This command measures it on
the book's own data, at the book's scale, and writes everything to a JSON report that
chapter 5 displays (the chapter's 60-second budget has no room for the GRU's training).

What is the same for both models:
  * data: lmlib.data.parallel_split() (ko_en, written for this course; 1,081 training and
    120 held-out pairs), chapter 5's vocabularies (training pairs, min_freq=2);
  * budget: the same number of optimizer steps (--steps) on the SAME batches (--batch-size
    pairs drawn by one seeded generator per seed), dropout 0.1, label smoothing 0.1,
    gradient clipping 1, float64 with one thread (lmlib.training.reproducible_cpu);
  * evaluation: greedy decoding of at most --max-len tokens, BLEU and chrF by sacreBLEU
    (default settings) against the one reference of each held-out pair.

What differs: the architecture, and each model's own optimizer recipe. The Transformer
is chapter 5's model and recipe (Adam 0.9/0.98, linear warmup over 40 steps to the peak lr,
then the paper's inverse-square-root decay); the GRU + Bahdanau attention model is chapter
3's lmlib.seq2seq.Seq2Seq (Adam, constant lr), sized to a similar parameter count. Each
model's lr is chosen from the same grid (--lrs) by BLEU on a dev split carved out of the
training pairs, never on the test pairs; when the Transformer's choice is chapter 5's
5e-3, seed 0's Transformer is exactly the chapter's model and gets the chapter's BLEU.
Times are measured, not matched: the report gives CPU seconds (one thread: the cost on an
idle core) and wall seconds.

The difference (Transformer - GRU) of the corpus BLEU and chrF comes with a 95% paired
bootstrap interval: the test sentences are resampled with replacement (the same draw for
both systems, numpy PCG64 with a fixed seed, as lmlib.stats), and both corpus scores are
recomputed from sacreBLEU's per-sentence sufficient statistics. A difference counts only
if its interval excludes 0. Several seeds (--seeds) show how much the training seed moves
the scores, which the bootstrap over sentences does not.

    python scripts/compare_seq2seq.py                      # the committed report (~15 min)
    python scripts/compare_seq2seq.py --steps 3 --seeds 0 --lrs 3e-3 --n-test 8 \\
        --max-len 6 --n-boot 200 --out /tmp/report.json    # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "lmlib" / "checkpoints" / "compare_seq2seq" / "report.json"

# Chapter 5's Transformer and recipe (notebooks/05_transformer.ipynb, section 5.2).
TRANSFORMER = dict(d_model=64, n_heads=4, n_layers=2, d_ff=128, dropout=0.1)
TRANSFORMER_RECIPE = dict(warmup=40, label_smoothing=0.1)  # lr: chosen on dev (chapter 5: 5e-3)
# Chapter 3's GRU + Bahdanau attention, widened to about the Transformer's parameter count.
GRU = dict(d_model=64, d_hidden=96, n_layers=1, dropout=0.1, attention=True)
GRU_LABEL_SMOOTHING = 0.1


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300, help="optimizer steps, both models")
    p.add_argument("--batch-size", type=int, default=64, help="pairs per step, both models")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                   help="init, batch and dropout seeds (seed 0 = chapter 5's Transformer)")
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3, 5e-3, 1e-2],
                   help="(peak) learning rates tried on the dev split for each model "
                        "(one value: no selection)")
    p.add_argument("--dev-fraction", type=float, default=0.1,
                   help="share of the training pairs held out to choose the GRU's lr")
    p.add_argument("--max-len", type=int, default=64, help="greedy decoding: most tokens")
    p.add_argument("--n-test", type=int, default=None, help="first N test pairs only (smoke runs)")
    p.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON report goes")
    args = p.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.max_len < 1 or args.n_boot < 100:
        p.error("--steps, --batch-size and --max-len must be >= 1, --n-boot >= 100")
    if not 0 < args.dev_fraction < 1:
        p.error("--dev-fraction must lie in (0, 1)")
    return args


# ---------------------------------------------------------------------------
# data and batches
# ---------------------------------------------------------------------------

def load_data():
    """Chapter 5's split and vocabularies -> train pairs, test pairs, src vocab, tgt vocab."""
    from lmlib.data import parallel_split
    from lmlib.text import Vocab

    train_pairs, test_pairs = parallel_split()
    src_vocab = Vocab.build([s for s, _ in train_pairs], min_freq=2)
    tgt_vocab = Vocab.build([t for _, t in train_pairs], min_freq=2)
    return train_pairs, test_pairs, src_vocab, tgt_vocab


def batch_sampler(pairs, src_vocab, tgt_vocab, batch_size: int, seed: int):
    """step -> (src, src_lengths, tgt_in, tgt_out), drawn exactly as chapter 5's `batches`.

    One generator per call, so two models given two samplers with the same seed see the
    same pairs at every step (the Transformer ignores src_lengths).
    """
    from lmlib.seq2seq import pad_batch

    g = torch.Generator().manual_seed(seed)

    def batches(step: int):
        idx = torch.randint(len(pairs), (batch_size,), generator=g).tolist()
        src, src_lengths = pad_batch([src_vocab.encode(pairs[i][0]) for i in idx], 0)
        tgt_in, _ = pad_batch([tgt_vocab.encode(pairs[i][1], add_bos=True) for i in idx], 0)
        tgt_out, _ = pad_batch([tgt_vocab.encode(pairs[i][1], add_eos=True) for i in idx], 0)
        return src, src_lengths, tgt_in, tgt_out

    return batches


# ---------------------------------------------------------------------------
# the two models
# ---------------------------------------------------------------------------

def n_parameters(model: torch.nn.Module) -> int:
    """Trainable parameters, a tied matrix counted once (model.parameters() deduplicates)."""
    return sum(p.numel() for p in model.parameters())


def new_transformer(src_vocab, tgt_vocab, seed: int):
    from lmlib.transformer import Transformer, TransformerConfig

    config = TransformerConfig(len(src_vocab), len(tgt_vocab), **TRANSFORMER)
    torch.manual_seed(seed)  # as chapter 5: the seed, then the model, then .double()
    return Transformer(config).double()


def new_gru(src_vocab, tgt_vocab, seed: int):
    from lmlib.seq2seq import Seq2Seq, Seq2SeqConfig

    config = Seq2SeqConfig(len(src_vocab), len(tgt_vocab), **GRU)
    torch.manual_seed(seed)
    return Seq2Seq(config).double()


class Timer:
    """Wall-clock and CPU seconds of a block. With one torch thread, CPU time is what the
    training costs on an idle core; wall time also counts waiting for other programs."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def train_transformer(model, batches, steps: int, seed: int, lr: float
                      ) -> tuple[list[float], Timer]:
    """Chapter 5's recipe at peak learning rate lr -> (losses, timer)."""
    from lmlib.transformer import train

    with Timer() as t:
        losses = train(model, lambda step: (lambda b: (b[0], b[2], b[3]))(batches(step)),
                       steps=steps, lr=lr, seed=seed, progress=False, **TRANSFORMER_RECIPE)
    return losses, t


def train_gru(model, batches, steps: int, seed: int, lr: float) -> tuple[list[float], Timer]:
    """Chapter 3's recipe (lmlib.seq2seq.train) with the Transformer's label smoothing."""
    from lmlib.seq2seq import train

    with Timer() as t:
        losses = train(model, batches, steps=steps, lr=lr, seed=seed, progress=False,
                       label_smoothing=GRU_LABEL_SMOOTHING)
    return losses, t


def _words(ids, tgt_vocab) -> str:
    return " ".join(w for w in tgt_vocab.decode(ids) if w not in ("<s>", "</s>"))


def translate_transformer(model, pairs, src_vocab, tgt_vocab, max_len: int) -> list[str]:
    """Greedy, one sentence at a time (as chapter 5's `translate`)."""
    return [_words(model.greedy_decode(torch.tensor([src_vocab.encode(s)]), max_len=max_len)[0],
                   tgt_vocab) for s, _ in pairs]


def translate_gru(model, pairs, src_vocab, tgt_vocab, max_len: int) -> list[str]:
    """Greedy, the whole list in one padded batch (packing keeps each sentence's own result)."""
    from lmlib.seq2seq import pad_batch

    src, src_lengths = pad_batch([src_vocab.encode(s) for s, _ in pairs], 0)
    ids, _ = model.greedy_decode(src, src_lengths, max_len=max_len)
    return [_words(row, tgt_vocab) for row in ids]


# ---------------------------------------------------------------------------
# scores and the paired bootstrap
# ---------------------------------------------------------------------------

def metrics() -> dict:
    """sacreBLEU's BLEU and chrF with their default settings (as chapter 5)."""
    from sacrebleu.metrics import BLEU, CHRF

    return {"bleu": BLEU(), "chrf": CHRF()}


def corpus_scores(hyps: list[str], refs: list[str]) -> dict[str, float]:
    """{"bleu", "chrf"} of hypotheses against one reference each (0-100)."""
    return {name: m.corpus_score(hyps, [refs]).score for name, m in metrics().items()}


def signatures(refs: list[str]) -> dict[str, str]:
    """sacreBLEU's signature strings (settings and version) for one-reference scoring."""
    out = {}
    for name, m in metrics().items():
        m.corpus_score(refs[:1], [refs[:1]])  # the signature needs the number of references
        out[name] = m.get_signature().format()
    return out


def paired_bootstrap_difference(hyps_a: list[str], hyps_b: list[str], refs: list[str],
                                n_boot: int = 10_000, seed: int = 0, level: float = 0.95
                                ) -> dict[str, dict[str, float]]:
    """Corpus score of a minus b with a percentile interval, sentences resampled in pairs.

    Each resample draws len(refs) sentence indices with replacement (numpy PCG64, the same
    integers on every platform) and recomputes BOTH corpus scores on those sentences from
    sacreBLEU's sufficient statistics (n-gram matches and lengths per sentence), so the
    corpus-level definition of BLEU and chrF is kept. Returns, per metric, a, b, the
    difference, its interval [low, high], n and whether the interval excludes 0.
    """
    if not len(hyps_a) == len(hyps_b) == len(refs) >= 2:
        raise ValueError(f"need two hypothesis lists and references of one length >= 2, got "
                         f"{len(hyps_a)}, {len(hyps_b)}, {len(refs)}")
    rng = np.random.Generator(np.random.PCG64(seed))
    idx = rng.integers(0, len(refs), size=(n_boot, len(refs)))  # (n_boot, n): the same for a, b
    alpha = (1 - level) / 2
    out = {}
    for name, m in metrics().items():
        stats = [np.asarray(m._extract_corpus_statistics(h, [refs]), dtype=np.float64)
                 for h in (hyps_a, hyps_b)]  # (n, n_stats) each
        a, b = (m._compute_score_from_stats(s.sum(0)).score for s in stats)
        diffs = np.array([m._compute_score_from_stats(stats[0][i].sum(0)).score
                          - m._compute_score_from_stats(stats[1][i].sum(0)).score for i in idx])
        low, high = np.quantile(diffs, [alpha, 1 - alpha])
        out[name] = {"a": a, "b": b, "difference": a - b, "low": float(low), "high": float(high),
                     "n": len(refs), "level": level, "excludes_0": bool(low > 0 or high < 0)}
    return out


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------

def new_model(name: str, src_vocab, tgt_vocab, seed: int):
    return (new_transformer if name == "transformer" else new_gru)(src_vocab, tgt_vocab, seed)


def train_model(name: str, model, batches, steps: int, seed: int, lr: float):
    return (train_transformer if name == "transformer" else train_gru)(model, batches, steps,
                                                                      seed, lr)


def translate(name: str, model, pairs, src_vocab, tgt_vocab, max_len: int) -> list[str]:
    return (translate_transformer if name == "transformer" else translate_gru)(
        model, pairs, src_vocab, tgt_vocab, max_len)


MODELS = ("transformer", "gru_attention")


def choose_lrs(args, train_pairs, src_vocab, tgt_vocab) -> dict:
    """Train each model at each --lrs value on train minus dev (seed 0); keep the best dev BLEU."""
    from lmlib.data import train_test_split

    if len(args.lrs) == 1:
        return {name: {"chosen": args.lrs[0], "dev": None} for name in MODELS}
    fit_pairs, dev_pairs = train_test_split(train_pairs, test_fraction=args.dev_fraction, seed=1)
    refs = [" ".join(t) for _, t in dev_pairs]
    out = {}
    for name in MODELS:
        dev = {}
        for lr in args.lrs:
            model = new_model(name, src_vocab, tgt_vocab, seed=0)
            batches = batch_sampler(fit_pairs, src_vocab, tgt_vocab, args.batch_size, seed=0)
            losses, t = train_model(name, model, batches, args.steps, seed=0, lr=lr)
            hyps = translate(name, model, dev_pairs, src_vocab, tgt_vocab, args.max_len)
            dev[f"{lr:g}"] = {**corpus_scores(hyps, refs), "train_cpu_seconds": round(t.cpu, 1),
                              "final_loss": sum(losses[-50:]) / len(losses[-50:])}
            print(f"  {name} lr {lr:g}: dev BLEU {dev[f'{lr:g}']['bleu']:.1f} "
                  f"({t.cpu:.0f} s CPU)", flush=True)
        best = max(args.lrs, key=lambda lr: dev[f"{lr:g}"]["bleu"])
        out[name] = {"chosen": best, "dev": dev}
    out["dev_pairs"], out["fit_pairs"], out["split"] = (
        len(dev_pairs), len(fit_pairs),
        f"lmlib.data.train_test_split(training pairs, test_fraction={args.dev_fraction}, seed=1)")
    return out


def run(args) -> dict:
    from lmlib.training import reproducible_cpu

    t0 = time.perf_counter()
    cpu = reproducible_cpu()  # first, before any matrix product (chapters 3-5 do the same)
    train_pairs, test_pairs, src_vocab, tgt_vocab = load_data()
    if args.n_test is not None:
        test_pairs = test_pairs[:args.n_test]
    refs = [" ".join(t) for _, t in test_pairs]

    print("choosing each model's lr on the dev split ...", flush=True)
    selection = choose_lrs(args, train_pairs, src_vocab, tgt_vocab)

    runs, examples = [], None
    for seed in args.seeds:
        row = {"seed": seed}
        hyps = {}
        for name in MODELS:
            batches = batch_sampler(train_pairs, src_vocab, tgt_vocab, args.batch_size, seed)
            model = new_model(name, src_vocab, tgt_vocab, seed)
            losses, t = train_model(name, model, batches, args.steps, seed,
                                    selection[name]["chosen"])
            with Timer() as d:
                hyps[name] = translate(name, model, test_pairs, src_vocab, tgt_vocab, args.max_len)
            row[name] = {**corpus_scores(hyps[name], refs),
                         "train_cpu_seconds": round(t.cpu, 1), "train_wall_seconds": round(t.wall, 1),
                         "decode_cpu_seconds": round(d.cpu, 1),
                         "first_loss": losses[0],
                         "final_loss": sum(losses[-50:]) / len(losses[-50:]),
                         "parameters": n_parameters(model)}
            print(f"seed {seed} {name}: BLEU {row[name]['bleu']:.1f}, chrF {row[name]['chrf']:.1f}, "
                  f"{t.cpu:.0f} s CPU ({t.wall:.0f} s wall)", flush=True)
        row["difference_of"] = "transformer - gru_attention"
        row["difference"] = paired_bootstrap_difference(hyps["transformer"], hyps["gru_attention"],
                                                        refs, n_boot=args.n_boot)
        runs.append(row)
        if examples is None:
            examples = [{"source": " ".join(s), "reference": r, "transformer": a, "gru_attention": b}
                        for (s, _), r, a, b in zip(test_pairs, refs, hyps["transformer"],
                                                   hyps["gru_attention"])][:8]

    report = {
        "command": "python scripts/compare_seq2seq.py" + "".join(
            " " + a for a in (sys.argv[1:] if args.argv is None else args.argv)),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                 if k not in ("argv", "out")},
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s), "
                   f"torch {torch.__version__}",
        "reproducible_cpu": cpu,
        "date": time.strftime("%Y-%m-%d"),
        "data": {"corpus": "ko_en (written for this course, CC0; lmlib/data/README.md)",
                 "split": "lmlib.data.parallel_split()", "train_pairs": len(train_pairs),
                 "test_pairs": len(test_pairs), "src_vocab": len(src_vocab),
                 "tgt_vocab": len(tgt_vocab)},
        "budget": {"same": "optimizer steps, batch size and the batches themselves",
                   "steps": args.steps, "batch_size": args.batch_size,
                   "decoding": "greedy", "max_len": args.max_len},
        "models": {
            "transformer": {"class": "lmlib.transformer.Transformer", "config": TRANSFORMER,
                            "recipe": {"lr": selection["transformer"]["chosen"],
                                       **TRANSFORMER_RECIPE, "optimizer": "Adam(0.9, 0.98), "
                                       "linear warmup then lr * sqrt(warmup / step)"}},
            "gru_attention": {"class": "lmlib.seq2seq.Seq2Seq", "config": GRU,
                              "recipe": {"lr": selection["gru_attention"]["chosen"],
                                         "label_smoothing": GRU_LABEL_SMOOTHING,
                                         "optimizer": "Adam, constant lr"}},
        },
        "timing": "train_cpu_seconds: CPU time of the training process (one torch thread), "
                  "the cost on an idle core; train_wall_seconds also counts waiting for other "
                  "programs on a shared machine",
        "lr_selection": selection,
        "runs": runs,
        "examples": examples,
        "metrics": signatures(refs),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    return report


def main(argv=None) -> dict:
    args = parse_args(argv)
    args.argv = argv
    report = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({report['total_seconds']:.0f} s)")
    return report


if __name__ == "__main__":
    main()
