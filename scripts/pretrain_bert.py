"""Pretrain the chapter-7 BERT (MLM + NSP) on NSMC review text and the course corpus.

Only the course corpus's train split (lmlib.data.course_split) is used, so chapter 7 can
compare BERT with chapter 2's n-gram models on the same held-out blanks.

The checkpoint that chapters 7-8 load (lmlib/checkpoints/bert_nsmc) is made by exactly:

    LMLIB_NSMC_DIR=../shared/data/nsmc .venv/bin/python scripts/pretrain_bert.py --threads 1

(`make pretrain-bert` runs the same; about 85 minutes on one CPU core, resumable with
--resume). NOTE: the checkpoint shipped today is still the first one, made with the first
recipe (`--corpus nsmc-train --no-whole-word --dropout 0.1`, its report.json's command ran
with those as defaults); a checkpoint from the defaults below was trained (10,000 steps) but
is not shipped yet, its fine-tuning did not finish in the session. The defaults: 649k crawled reviews (unlabeled_reviews.txt, none of them a
test review; chapter 8's two-senses reviews, lmlib/data/senses.tsv, left out too), whole-word
masking, no dropout (Cramming's advice for a small budget), 10,000 steps of 64 pairs, a
warmup then cosine schedule over exactly that budget. The other recipes are options, each
recorded in report.json's "recipe" beside its held-out result and compared at one equal
budget by scripts/compare_bert_recipes.py (lmlib/checkpoints/bert_nsmc/recipes.json):
--corpus nsmc-train (the labelled train split only), --no-whole-word (each WordPiece token
masked on its own), --dropout 0.1, --pre-tokenize morph (WordPiece over Kiwi morphemes, so
whole words are morphemes), --objective electra (replaced-token detection,
lmlib.bert.ElectraForPreTraining: the loss reads every token, not only the masked 15%).
Steps: train a WordPiece tokenizer on the text, cut every text into segments (sentences, or
two halves of a one-sentence text), and train lmlib.bert.BertForPreTraining on masked words
(15%, 80/10/10) and next-segment pairs (50% IsNext) with lmlib.pretrain.train_steps.
Held-out MLM accuracy and NSP accuracy are measured on pairs from the NSMC test split and
written to report.json next to the weights.

The same command runs on a GPU when one is present (--device), and on several processes
with `torchrun --nproc_per_node=N scripts/pretrain_bert.py ...` (lmlib.distributed):
--batch-size stays the global batch, each process trains on its share, and rank 0 writes
the checkpoint and the report, which records the machine.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "lmlib" / "checkpoints" / "bert_nsmc"
_SENTENCE_END = re.compile(r"(?<=[.!?~…])\s+")


def segments(text: str) -> list[str]:
    """A text's segments for NSP: its sentences; one long sentence is cut into two halves."""
    parts = [p for p in _SENTENCE_END.split(text.strip()) if p]
    if len(parts) == 1:
        words = parts[0].split()
        if len(words) >= 4:
            half = len(words) // 2
            parts = [" ".join(words[:half]), " ".join(words[half:])]
    return parts


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="folder with ratings_train.txt, ratings_test.txt")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="checkpoint folder")
    p.add_argument("--corpus", choices=("nsmc-train", "unlabeled"), default="unlabeled",
                   help="review text: the labelled train split, or unlabeled_reviews.txt (649k "
                        "crawled reviews without any test review; needs --data-dir or "
                        "$LMLIB_NSMC_DIR); the course corpus's train split is added to either")
    p.add_argument("--whole-word", action=argparse.BooleanOptionalAction, default=True,
                   help="whole-word masking: every piece of a chosen word is predicted "
                        "(--no-whole-word: each WordPiece token on its own, as the first BERT)")
    p.add_argument("--pre-tokenize", choices=("none", "morph"), default="none",
                   help="morph: WordPiece over Kiwi morphemes, so --whole-word masks morphemes")
    p.add_argument("--objective", choices=("mlm", "electra"), default="mlm",
                   help="mlm: BERT's MLM + NSP; electra: replaced-token detection (ELECTRA), "
                        "a generator of --generator-layers layers and the discriminator")
    p.add_argument("--generator-layers", type=int, default=1)
    p.add_argument("--vocab-size", type=int, default=6000)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--n-layers", type=int, default=4)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--max-len", type=int, default=64, help="tokens per pair, [CLS]/[SEP] included")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--budget-minutes", type=float, default=None,
                   help="instead of --steps: as many steps as fit in this many minutes of "
                        "training here, timed on the first batches (lmlib.pretrain."
                        "steps_for_budget); report.json records the steps, and --steps N "
                        "repeats the run on any machine")
    p.add_argument("--workers", type=int, default=0,
                   help="processes that build the next batches ahead of the training step "
                        "(lmlib.pretrain.prefetched; the same batches with any number)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--eval-pairs", type=int, default=2000)
    p.add_argument("--dropout", type=float, default=0.0,
                   help="0: none in pretraining, as Cramming recommends (BERT used 0.1)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None,
                   help="default: cuda when available, else cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    return p.parse_args(argv)


@torch.no_grad()
def evaluate_electra(model, batches) -> dict:
    """The generator's MLM accuracy and the discriminator's replaced-token accuracy (every
    real token; samples seeded per batch, so every evaluation sees the same corruption)."""
    device = next(model.parameters()).device
    mlm = [0, 0]
    rtd = [0, 0]
    replaced_share = [0, 0]
    for i, b in enumerate(batches):
        b = {k: v.to(device) for k, v in b.items()}
        out = model(b["input_ids"], b["token_type_ids"], b["attention_mask"], b["mlm_labels"],
                    generator=torch.Generator(device=device).manual_seed(i))
        mlm = [mlm[0] + int(out.mlm_correct.sum()), mlm[1] + out.mlm_correct.numel()]
        rtd = [rtd[0] + int(out.rtd_correct.sum()), rtd[1] + out.rtd_correct.numel()]
        replaced_share = [replaced_share[0] + int(out.replaced.sum()),
                          replaced_share[1] + out.rtd_correct.numel()]
    return {"mlm_accuracy": mlm[0] / mlm[1], "rtd_accuracy": rtd[0] / rtd[1],
            "replaced_share": replaced_share[0] / replaced_share[1]}


def evaluate_pretraining(model, batches) -> dict:
    """Held-out metrics in eval mode; the model's mode comes back afterwards."""
    from lmlib.base import eval_mode
    from lmlib.bert import ElectraForPreTraining

    with eval_mode(model):
        if isinstance(model, ElectraForPreTraining):
            return evaluate_electra(model, batches)
        return evaluate_mlm_nsp(model, batches)


@torch.no_grad()
def evaluate_mlm_nsp(model, batches) -> dict:
    """MLM accuracy (top-1 on the chosen positions), NSP accuracy and the mean losses."""
    device = next(model.parameters()).device
    mlm_ok = mlm_n = nsp_ok = nsp_n = 0
    mlm_loss = nsp_loss = 0.0
    for b in batches:
        b = {k: v.to(device) for k, v in b.items()}
        out = model(**b)
        chosen = b["mlm_labels"] != -100
        mlm_ok += int((out.mlm_logits.argmax(-1) == b["mlm_labels"])[chosen].sum())
        mlm_n += int(chosen.sum())
        nsp_ok += int((out.nsp_logits.argmax(-1) == b["nsp_labels"]).sum())
        nsp_n += len(b["nsp_labels"])
        mlm_loss += out.mlm_loss.item() * len(b["nsp_labels"])
        nsp_loss += out.nsp_loss.item() * len(b["nsp_labels"])
    return {"mlm_accuracy": mlm_ok / mlm_n, "nsp_accuracy": nsp_ok / nsp_n,
            "mlm_loss": mlm_loss / nsp_n, "nsp_loss": nsp_loss / nsp_n}


def share_loss(model, batch: dict, n_masked: int, world_size: int) -> torch.Tensor:
    """One process's share of a global batch's pretraining loss, weighted so that the mean
    over the processes is the global batch's loss (and the mean of their gradients its
    gradient): MLM summed over the share's masked positions / (n_masked / world_size), as
    the shares hold different numbers of them; NSP the mean over the share's rows (shares
    are equal). The same terms as BertForPreTraining.pretraining_loss."""
    import torch.nn.functional as F

    out = model.bert(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"])
    chosen = batch["mlm_labels"] != -100  # (B/N, T)
    mlm_logits = model.cls.predictions(out.last_hidden_state[chosen])  # (M, C) -> (M, V)
    mlm = F.cross_entropy(mlm_logits, batch["mlm_labels"][chosen], reduction="sum")
    nsp = F.cross_entropy(model.cls.seq_relationship(out.pooled), batch["nsp_labels"])
    return mlm * world_size / n_masked + nsp


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from lmlib.distributed import setup, teardown

    machine = setup(args.device)
    from lmlib.bert import BertConfig, BertForPreTraining, ElectraForPreTraining
    from lmlib.bert_data import nsp_pairs, pretraining_batch, word_start_table
    from lmlib.data import (course_split, load_nsmc, load_senses, load_unlabeled_reviews,
                            save_trained_ids)
    from lmlib.pretrain import prefetched, step_generator, steps_for_budget, train_steps
    from lmlib.tokenizer import Tokenizer, train_tokenizer

    t0 = time.perf_counter()
    train_rows = (load_unlabeled_reviews(args.data_dir) if args.corpus == "unlabeled"
                  else load_nsmc("train", data_dir=args.data_dir))
    # Chapter 8's two-senses sentences (lmlib/data/senses.tsv) stay unseen.
    held_out = {r.id for r in load_senses()}
    n_rows = len(train_rows)
    train_rows = [r for r in train_rows if r.id not in held_out]
    train = [r.document for r in train_rows if r.document.strip()]
    test = [r.document for r in load_nsmc("test", data_dir=args.data_dir) if r.document.strip()]
    daily = [" ".join(words) for words in course_split()[0]]  # train split only
    texts = train + daily
    out = Path(args.out)
    # The reviews the model saw (lmlib.data.drop_trained_reviews drops them from the official files).
    if machine.is_main:
        save_trained_ids(out, [r.id for r in train_rows])
    resumed_tok = args.resume and (out / "tokenizer.json").is_file()
    machine.barrier()  # every process has looked for it before rank 0 may write one
    if resumed_tok:
        tok = Tokenizer.load(out)
    elif machine.is_main:
        tok = train_tokenizer(texts, kind="wordpiece", vocab_size=args.vocab_size,
                              pre_tokenize=args.pre_tokenize, progress=True)
        if machine.distributed:
            tok.save(out)  # the other processes load this one: every process the same vocabulary
    machine.barrier()
    if not resumed_tok and not machine.is_main:
        tok = Tokenizer.load(out)
    log = print if machine.is_main else (lambda *a, **k: None)
    docs = [s for s in (segments(t) for t in texts) if s]
    val_docs = [s for s in (segments(t) for t in test[:20000]) if s]
    starts_table = word_start_table(tok) if args.whole_word else None
    log(f"{len(train):,} reviews ({args.corpus}) + {len(daily):,} course sentences -> {len(docs):,} "
          f"documents ({sum(len(d) >= 2 for d in docs):,} with 2+ segments); {tok!r}")

    # Fixed held-out batches (NSMC test split), the same at every evaluation.
    g = torch.Generator().manual_seed(12345)
    val_pairs = nsp_pairs(val_docs, args.eval_pairs, seed=12345)
    val_batches = [pretraining_batch(tok, val_pairs[i:i + 100], args.max_len, generator=g)
                   for i in range(0, len(val_pairs), 100)]

    torch.manual_seed(args.seed)
    config = BertConfig(vocab_size=tok.vocab_size, max_len=args.max_len, d_model=args.d_model,
                        n_heads=args.n_heads, n_layers=args.n_layers, dropout=args.dropout,
                        pad_id=tok.pad_id)
    if args.objective == "electra":
        if machine.distributed:
            raise ValueError("--objective electra runs on one process (torchrun: use mlm)")
        model = ElectraForPreTraining(config, generator_layers=args.generator_layers)
    else:
        model = BertForPreTraining(config)
    log(f"{machine.summary()}; BERT: {model.num_parameters():,} parameters")

    def make_batch(step: int, pairs) -> dict:
        return pretraining_batch(tok, pairs, args.max_len, generator=step_generator(args.seed, step),
                                 whole_word=args.whole_word, starts_table=starts_table)

    batches = None  # (step, batch) in step order, from the first step this run trains

    def batch_loss(step: int) -> torch.Tensor:
        nonlocal batches
        if batches is None:
            batches = prefetched(lambda s: make_batch(
                s, all_pairs[s * args.batch_size:(s + 1) * args.batch_size]),
                step, args.steps, args.workers)
        built, batch = next(batches)
        if built != step:
            raise RuntimeError(f"batch for step {built} arrived at step {step}")
        return step_loss(step, batch)

    def step_loss(step: int, batch: dict) -> torch.Tensor:
        if args.objective == "electra":  # the replacements: a generator of their own per step
            g = step_generator(args.seed + 1, step)
            batch = {k: v.to(machine.device) for k, v in batch.items()}
            return model(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"],
                         batch["mlm_labels"], generator=g).loss
        if not machine.distributed:
            batch = {k: v.to(machine.device) for k, v in batch.items()}
            return model.pretraining_loss(**batch)  # = model(**batch).loss, MLM head only where masked
        # every process drew the whole batch (the same masks as one process); it keeps its rows
        n_masked = int((batch["mlm_labels"] != -100).sum())
        rows = machine.shard(args.batch_size)
        share = {k: v[rows].to(machine.device) for k, v in batch.items()}
        return share_loss(model, share, n_masked, machine.world_size)

    budget = None
    if args.budget_minutes is not None:
        if machine.distributed or args.resume:
            raise ValueError("--budget-minutes times one fresh process; under torchrun or with "
                             "--resume pass --steps (report.json's budget gives them)")
        probe_pairs = nsp_pairs(docs, 23 * args.batch_size, seed=args.seed + 1)
        probe = [make_batch(s, probe_pairs[s * args.batch_size:(s + 1) * args.batch_size])
                 for s in range(23)]  # built ahead: with --workers the step does not wait for them

        budget = steps_for_budget(model, lambda step: step_loss(step, probe[step]),
                                  60 * args.budget_minutes, device=machine.device)
        args.steps = budget["steps"]
        log(f"budget {args.budget_minutes:g} min: {budget['seconds_per_step'] * 1000:.1f} ms "
            f"per step -> --steps {args.steps}")

    # Every step's pairs drawn at once (cheap); step s uses its own slice, so a resumed run
    # sees the same pairs, and masks drawn from step_generator(seed, s).
    all_pairs = nsp_pairs(docs, args.steps * args.batch_size, seed=args.seed)
    machine.shard(args.batch_size)  # --batch-size must split equally: a clear error now

    t_train = time.perf_counter()
    history = train_steps(model, batch_loss, args.steps, lr=args.lr, warmup=args.warmup,
                          weight_decay=0.01, evaluate_fn=lambda: evaluate_pretraining(
                              model, val_batches), eval_every=args.eval_every, out_dir=out,
                          tokenizer=tok, resume=args.resume, seed=args.seed, machine=machine)
    train_seconds = time.perf_counter() - t_train
    report = {
        "command": "python scripts/pretrain_bert.py " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
        "args": vars(args),
        "machine": machine.summary(),
        "devices": machine.describe(),
        "date": time.strftime("%Y-%m-%d"),
        # What was tried, beside its held-out result (held_out: token-level masks on the same
        # NSMC test pairs for every recipe, so recipes compare on one measure).
        "recipe": {"objective": args.objective, "corpus": args.corpus,
                   "whole_word": args.whole_word, "pre_tokenize": args.pre_tokenize,
                   "dropout": args.dropout},
        "data": {"reviews": len(train), "held_out_sense_reviews": n_rows - len(train_rows),
                 "course_sentences": len(daily),
                 "documents": len(docs), "held_out_pairs": len(val_pairs)},
        "tokenizer": {"kind": tok.kind, "vocab_size": tok.vocab_size},
        "parameters": model.num_parameters(),
        "train_seconds": round(train_seconds, 1),
        "budget": budget,
        "history": history,
        "held_out": evaluate_pretraining(model, val_batches),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    if machine.is_main:
        (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    log(json.dumps({k: report[k] for k in ("parameters", "train_seconds", "held_out")}, indent=1))
    teardown()
    return report


if __name__ == "__main__":
    main()
