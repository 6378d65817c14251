"""Pretrain the chapter-6 GPT on NSMC review text and compare it with an n-gram model.

The checkpoint that chapter 6 loads (lmlib/checkpoints/gpt_nsmc) is made by the defaults:

    .venv/bin/python scripts/pretrain_gpt.py --data-dir ../shared/data/nsmc --threads 1

(`make pretrain-gpt` runs the same; about 1.5-2 hours on one CPU core; resumable with
--resume, which, once training is complete, only recomputes the report). Steps: train a
BPE tokenizer on the pretraining text (--corpus unlabeled: unlabeled_reviews.txt, 649,042
crawled reviews without any test review; nsmc-train: the 150,000 labelled train reviews),
encode it into one token stream, train lmlib.gpt.GPT with lmlib.pretrain.train_lm, then
score --test-reviews held-out reviews (the NSMC test split after the first --val-reviews,
which are the validation set) with the GPT and with lmlib.ngram.NGramLM 2- and 3-grams
fitted on the same training tokens (smoothing chosen on validation), and write everything
to report.json next to the weights, with trained_ids.npz (the review ids it saw).

NSMC comes from lmlib.data.load_nsmc: --data-dir, else $LMLIB_NSMC_DIR, else the cache or
(in Colab) a download. --resume continues an interrupted run from --out.

The same command runs on a GPU when one is present (--device), and on several processes
with `torchrun --nproc_per_node=N scripts/pretrain_gpt.py ...` (lmlib.distributed):
--batch-size stays the global batch, each process trains on its share, and rank 0 writes
the checkpoint and the report, which records the machine. --budget-minutes replaces
--steps by the number of steps that fit in that much training time here (Cramming).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "lmlib" / "checkpoints" / "gpt_nsmc"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="folder with ratings_train.txt, ratings_test.txt")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="checkpoint folder")
    p.add_argument("--corpus", choices=("nsmc-train", "unlabeled"), default="unlabeled",
                   help="training text: the labelled train split, or unlabeled_reviews.txt "
                        "(649k crawled reviews without any test review; needs --data-dir or "
                        "$LMLIB_NSMC_DIR)")
    p.add_argument("--tokenizer", choices=("bpe", "char"), default="bpe")
    p.add_argument("--vocab-size", type=int, default=4000)
    p.add_argument("--d-model", type=int, default=192)
    p.add_argument("--n-layers", type=int, default=6)
    p.add_argument("--n-heads", type=int, default=6)
    p.add_argument("--max-len", type=int, default=128, help="context length (tokens)")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--budget-minutes", type=float, default=None,
                   help="instead of --steps: as many steps as fit in this many minutes of "
                        "training here, timed on the first batches (lmlib.pretrain."
                        "steps_for_budget); report.json records the steps, and --steps N "
                        "repeats the run on any machine")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--val-reviews", type=int, default=5000,
                   help="test-split reviews used for validation during training and for "
                        "choosing the n-gram's k; the rest of the test split is the final test")
    p.add_argument("--test-reviews", type=int, default=10000,
                   help="test-split reviews after the validation ones for the final scores "
                        "(a sample: the report gives 95%% intervals); 0 = all the rest")
    p.add_argument("--limit", type=int, default=None, help="use only this many train reviews")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None,
                   help="default: cuda when available, else cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    return p.parse_args(argv)


@torch.no_grad()
def gpt_review_logprobs(model, tokenizer, texts, batch_size: int = 256) -> list[tuple[float, int]]:
    """Per review, (sum of log P over its tokens and its end-of-text, tokens predicted):
    each review read from an end-of-text id (the stream's separator), as the n-gram model
    reads from <s>. A review longer than the context is cut to it."""
    from tqdm.auto import tqdm

    eos, out = tokenizer.eos_id, []
    device = next(model.parameters()).device
    seqs = [[eos] + ids[:model.config.max_len - 1] + [eos]
            for ids in tokenizer.encode_batch(texts)]
    seqs = [s[:model.config.max_len + 1] for s in seqs]
    for i in tqdm(range(0, len(seqs), batch_size), desc="GPT scoring"):
        chunk = seqs[i:i + batch_size]
        T = max(len(s) for s in chunk)
        idx = torch.full((len(chunk), T), eos, dtype=torch.long)
        tgt = torch.full((len(chunk), T - 1), -100, dtype=torch.long)
        for r, s in enumerate(chunk):
            idx[r, :len(s)] = torch.tensor(s)
            tgt[r, :len(s) - 1] = torch.tensor(s[1:])
        idx, tgt = idx.to(device), tgt.to(device)
        logp = model(idx[:, :-1]).logits.float().log_softmax(-1)  # (B, T-1, V)
        keep = tgt != -100
        picked = logp.gather(-1, tgt.clamp(min=0)[..., None]).squeeze(-1)  # (B, T-1)
        out += list(zip((picked * keep).sum(1).tolist(), keep.sum(1).tolist()))
    return out


def measure_throughput(model, stream, args, steps: int = 10) -> dict:
    """Training tokens per second of this configuration on this machine, timed over `steps`
    AdamW steps on a copy of the model (the trained weights are untouched)."""
    import copy

    from lmlib.pretrain import random_batch

    clone = copy.deepcopy(model).train()
    device = next(clone.parameters()).device
    opt = torch.optim.AdamW(clone.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    batches = [tuple(t.to(device) for t in random_batch(stream, args.batch_size, args.max_len,
                                                        generator=g))
               for _ in range(steps + 1)]

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        clone(x, y).loss.backward()
        opt.step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    step(*batches[0])  # warm-up, not timed
    sync()
    t = time.perf_counter()
    for x, y in batches[1:]:
        step(x, y)
    sync()
    seconds = time.perf_counter() - t
    return {"tokens_per_second": round(steps * args.batch_size * args.max_len / seconds, 1),
            "timed_steps": steps, "torch_threads": torch.get_num_threads(), "device": str(device)}


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from lmlib.distributed import setup, teardown

    machine = setup(args.device)
    from lmlib.data import load_nsmc, load_unlabeled_reviews, save_trained_ids
    from lmlib.gpt import GPT, GPTConfig
    from lmlib.ngram import NGramLM
    from lmlib.pretrain import evaluate, random_batch, steps_for_budget, token_stream, train_lm
    from lmlib.tokenizer import Tokenizer, train_tokenizer

    t0 = time.perf_counter()
    if args.corpus == "unlabeled":
        rows = load_unlabeled_reviews(args.data_dir, limit=args.limit)
    else:
        rows = load_nsmc("train", data_dir=args.data_dir, limit=args.limit)
    train = [r.document for r in rows if r.document.strip()]
    test = [r.document for r in load_nsmc("test", data_dir=args.data_dir) if r.document.strip()]
    val, held_out = test[:args.val_reviews], test[args.val_reviews:]
    if args.test_reviews:
        held_out = held_out[:args.test_reviews]
    out = Path(args.out)
    log = print if machine.is_main else (lambda *a, **k: None)
    log(f"NSMC: {len(train):,} train reviews, {len(val):,} validation, {len(held_out):,} test")
    # Which reviews the model saw, so a figure measured on the official NSMC files (which
    # overlap the training crawl) can drop them first: lmlib.data.drop_trained_reviews.
    n_trained_ids = len({r.id for r in rows})
    if machine.is_main:
        n_trained_ids = save_trained_ids(out, [r.id for r in rows])

    resumed_tok = args.resume and (out / "tokenizer.json").is_file()
    machine.barrier()  # every process has looked for it before rank 0 may write one
    if resumed_tok:
        tok = Tokenizer.load(out)
    elif machine.is_main:
        tok = train_tokenizer(train, kind=args.tokenizer, vocab_size=args.vocab_size)
        if machine.distributed:
            tok.save(out)  # the other processes load this one: every process the same vocabulary
    machine.barrier()
    if not resumed_tok and not machine.is_main:
        tok = Tokenizer.load(out)
    train_ids = token_stream(tok, train)
    val_ids = token_stream(tok, val)
    log(f"tokenizer: {tok!r}; train stream {train_ids.numel():,} tokens, "
          f"validation {val_ids.numel():,}")

    torch.manual_seed(args.seed)
    config = GPTConfig(vocab_size=tok.vocab_size, max_len=args.max_len, d_model=args.d_model,
                       n_heads=args.n_heads, n_layers=args.n_layers, dropout=args.dropout,
                       eos_id=tok.eos_id)
    model = GPT(config)
    log(f"{machine.summary()}; GPT: {model.num_parameters():,} parameters")
    budget = None
    if args.budget_minutes is not None:
        if machine.distributed or args.resume:
            raise ValueError("--budget-minutes times one fresh process; under torchrun or with "
                             "--resume pass --steps (report.json's budget gives them)")
        g = torch.Generator().manual_seed(args.seed + 1)
        probe = [tuple(t.to(machine.device) for t in random_batch(
            train_ids, args.batch_size, args.max_len, generator=g)) for _ in range(23)]
        budget = steps_for_budget(model, lambda step: model(*probe[step]).loss,
                                  60 * args.budget_minutes, device=machine.device)
        args.steps = budget["steps"]
        log(f"budget {args.budget_minutes:g} min: {budget['seconds_per_step'] * 1000:.1f} ms "
            f"per step -> --steps {args.steps}")
    # Training time over every invocation (a resumed run adds to it); unknown (None) when the
    # run was started by a version of this script that did not record it.
    timing = out / "train_seconds.json"
    prior = 0.0
    if args.resume and (out / "trainer.json").is_file():
        prior = json.loads(timing.read_text())["seconds"] if timing.is_file() else None
    t_train = time.perf_counter()
    history = train_lm(model, train_ids, val_ids, steps=args.steps, batch_size=args.batch_size,
                       lr=args.lr, warmup=args.warmup, eval_every=args.eval_every,
                       out_dir=out, tokenizer=tok, resume=args.resume, seed=args.seed,
                       machine=machine)
    train_seconds = None if prior is None else round(prior + time.perf_counter() - t_train, 1)
    if not machine.is_main:  # rank 0 alone measures the model and writes the report
        teardown()
        return {}
    timing.write_text(json.dumps({"seconds": train_seconds}) + "\n")
    model.eval()
    throughput = measure_throughput(model, train_ids, args)

    # Final numbers, on held-out reviews the model never saw.
    val_loss = evaluate(model, val_ids, config.max_len, batch_size=64)
    per_review = gpt_review_logprobs(model, tok, held_out)
    logp, n = sum(lp for lp, _ in per_review), sum(c for _, c in per_review)
    report = {
        "command": "python scripts/pretrain_gpt.py " + " ".join(sys.argv[1:] if argv is None
                                                                 else argv),
        "args": vars(args),
        "machine": machine.summary(),
        "devices": machine.describe(),
        "date": time.strftime("%Y-%m-%d"),
        "data": {"corpus": args.corpus, "train_reviews": len(train), "val_reviews": len(val),
                 "test_reviews": len(held_out), "train_tokens": train_ids.numel(),
                 "trained_ids": n_trained_ids},
        "tokenizer": {"kind": tok.kind, "vocab_size": tok.vocab_size},
        "parameters": model.num_parameters(),
        "train_seconds": train_seconds,
        "budget": budget,
        "throughput": throughput,
        "history": history,
        "val_loss_stream": val_loss,
        "test": {"gpt": {"tokens": n, "perplexity": math.exp(-logp / n)}},
    }

    # The chapter-1 n-gram model on the same tokens: each review a sentence of BPE pieces.
    def pieces(texts):
        return [[str(i) for i in ids] for ids in tok.encode_batch(texts)]

    # Ids seen at most once in training (rare byte pieces) become <unk> for the n-gram on
    # every side (lmlib.ngram.rare_to_unk), so Kneser-Ney gives unseen ids probability mass;
    # merging rare ids into one class can only lower the n-gram's perplexity.
    from lmlib.ngram import rare_to_unk

    train_p, val_p, test_p = rare_to_unk(pieces(train), pieces(val), pieces(held_out))
    report["data"]["ngram_unk_min_count"] = 2
    # One Kneser-Ney fit per order; add-k's k and KN's discount are both chosen on the
    # validation reviews (with_smoothing reuses the counts), and the best of all is reported.
    # "params" are NGramLM's keyword arguments for the chosen one: NGramLM(order, **params).
    chosen = {}
    for order in (2, 3):
        counted = NGramLM(order, "kneser-ney").fit(train_p)
        grid = [{"smoothing": "add-k", "k": k} for k in (1.0, 0.1, 0.01, 0.001)]
        grid += [{"smoothing": "kneser-ney", "discount": d} for d in (0.5, 0.75, 0.9, 0.95)]

        def label(params):
            return (f"add-k k={params['k']:g}" if params["smoothing"] == "add-k"
                    else f"kneser-ney D={params['discount']:g}")

        val_ppl = {label(p): counted.with_smoothing(**p).perplexity(val_p) for p in grid}
        best = min(grid, key=lambda p: val_ppl[label(p)])
        chosen[order] = counted.with_smoothing(**best)
        report["test"][f"{order}-gram"] = {
            "smoothing": label(best), "params": best, "val_perplexity": val_ppl,
            "perplexity": chosen[order].perplexity(test_p)}
    best_order = min((2, 3), key=lambda o: report["test"][f"{o}-gram"]["perplexity"])
    best_ngram = report["test"][f"{best_order}-gram"]["perplexity"]
    report["test"]["gpt_over_best_ngram"] = report["test"]["gpt"]["perplexity"] / best_ngram
    report["test"]["gpt_over_bigram"] = (report["test"]["gpt"]["perplexity"]
                                         / report["test"]["2-gram"]["perplexity"])

    # Review by review against the better n-gram: the mean difference of log P with its 95%
    # bootstrap interval, and per token for the shorter and the longer half of the reviews.
    from lmlib.stats import paired_bootstrap

    best_lm = chosen[best_order]
    ngram_lp = [best_lm.sentence_logprob(s) for s in test_p]
    counts = [c for _, c in per_review]
    uncut = [c == len(s) + 1 for c, s in zip(counts, test_p)]  # the same tokens on both sides
    gpt_lp = [lp for lp, _ in per_review]
    median = sorted(counts)[len(counts) // 2]

    def interval(rows, per_token):
        a = [gpt_lp[i] / (counts[i] if per_token else 1) for i in rows]
        b = [ngram_lp[i] / (counts[i] if per_token else 1) for i in rows]
        ci = paired_bootstrap(a, b)
        return {"estimate": ci.estimate, "low": ci.low, "high": ci.high, "n": ci.n}

    rows = [i for i in range(len(counts)) if uncut[i]]
    report["test"]["paired"] = {
        "ngram": f"{best_order}-gram", "reviews_cut_to_context": len(counts) - len(rows),
        "median_tokens": median,
        "logprob_per_review": interval(rows, False),
        "per_token_short": interval([i for i in rows if counts[i] <= median], True),
        "per_token_long": interval([i for i in rows if counts[i] > median], True)}
    report["total_seconds"] = round(time.perf_counter() - t0, 1)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    # The optimizer state is only needed to resume; the shipped checkpoint stays small.
    print(json.dumps({k: report[k] for k in ("parameters", "train_seconds", "test")}, indent=1))
    teardown()
    return report


if __name__ == "__main__":
    main()
