"""Fine-tune the chapter-7 BERT for NSMC sentiment, against three baselines; the chapter-8 tables.

The checkpoint and the accuracy table that chapter 8 loads (lmlib/checkpoints/
bert_nsmc_sentiment) are made by

    .venv/bin/python scripts/finetune_bert.py

(`make finetune-bert` runs the same, about 75 minutes on one core; it needs
lmlib/checkpoints/bert_nsmc from scripts/pretrain_bert.py), or the same runs (each variant
seeds its own) in a third of the time on three cores, one process per variant, merged into
one report:

    finetune_bert.py --variants scratch --out runs/ft_scratch --threads 1
    finetune_bert.py --variants frozen --out runs/ft_frozen --threads 1
    finetune_bert.py --variants pretrained --results-from runs/ft_scratch runs/ft_frozen --wait 3600

(a report made this way lists the other two commands in "merged_from";
`scratch` needs only the pretrained folder's tokenizer and config, so it may run while
pretraining is still going, from an early checkpoint with the same tokenizer).

Three classifiers, one recipe (same data order, steps, batch, schedule), each lmlib.bert.BertForSequenceClassification ([CLS] review [SEP] -> pooled
[CLS] vector -> one linear layer):

  pretrained  base from the pretrained BERT, base and adapter both trained (fine-tuning)
  scratch     the same model from random weights, everything trained
  frozen      base from the pretrained BERT but frozen, only the adapter trained

and beside them, on the same split, TF-IDF character 1-3-grams + logistic regression
(lmlib.baselines; C chosen on the last --val-reviews train reviews).

Training makes 2 passes over the 150,000 train reviews in batches of 64 reviews of similar
length (bucketed_order: little padding). Accuracy on the whole NSMC test split goes to
report.json; the fine-tuned `pretrained` classifier is saved next to it.

The small-data curve (lecture L24) follows: for each of --sizes labelled reviews and each
of --curve-seeds seeds, a random subset of the train reviews (never the validation ones),
every variant trained for max(--curve-steps, 2 passes) steps with early stopping on the
validation reviews, and TF-IDF with C chosen on them and fit on the subset alone; accuracy on a fixed sample of
--curve-test test reviews (the all-labels models are measured on the same sample).
report.json is rewritten after every curve run.

The same command runs on a GPU when one is present (--device), and on several processes
with `torchrun --nproc_per_node=N scripts/finetune_bert.py ...` (lmlib.distributed):
--batch-size stays the global batch, each process trains on its share of every batch, and
rank 0 writes the checkpoint and the report, which records the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
CKPT = ROOT / "lmlib" / "checkpoints"
VARIANTS = ("pretrained", "scratch", "frozen")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="folder with ratings_train.txt, ratings_test.txt")
    p.add_argument("--pretrained", default=str(CKPT / "bert_nsmc"), help="BertForPreTraining folder")
    p.add_argument("--out", default=str(CKPT / "bert_nsmc_sentiment"))
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4, help="pretrained and scratch")
    p.add_argument("--lr-frozen", type=float, default=1e-3, help="the adapter alone")
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--limit", type=int, default=None, help="use only this many train reviews")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", choices=("cpu", "cuda"), default=None,
                   help="default: cuda when available, else cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-reviews", type=int, default=5000,
                   help="the last train reviews: validation for TF-IDF's C and the curve's "
                        "early stopping (the all-labels classifiers still train on them)")
    p.add_argument("--sizes", type=int, nargs="*", default=[500, 2000, 10000],
                   help="labelled-review counts for the small-data curve (none: skip it)")
    p.add_argument("--curve-seeds", type=int, default=3)
    p.add_argument("--curve-steps", type=int, default=300,
                   help="at least this many steps per curve run (more passes over small data)")
    p.add_argument("--curve-test", type=int, default=10000, help="test reviews for the curve")
    p.add_argument("--curve-only", action="store_true",
                   help="only the small-data curve: no all-labels classifiers, no checkpoint "
                        "(scripts/compare_bert_recipes.py measures recipes this way)")
    p.add_argument("--dropout", type=float, default=0.1,
                   help="the classifiers' dropout (the pretrained model may have none)")
    p.add_argument("--results-from", nargs="*", default=[], metavar="DIR",
                   help="report folders of runs of this script with other --variants and the "
                        "same settings: their results and curve runs are merged into this "
                        "report (checked: same settings, data, tokenizer and, unless scratch, "
                        "pretrained weights), so variants can train in parallel processes")
    p.add_argument("--wait", type=float, default=0.0,
                   help="seconds to wait for a --results-from run still in progress")
    p.add_argument("--update-baseline", action="store_true",
                   help="recompute only the TF-IDF baseline (the all-labels run and every curve "
                        "run) of the report in --out with the current lmlib, on the report's own "
                        "split and settings; the BERT results stay, report.json records the "
                        "command under baseline_update")
    p.add_argument("--wait-pretrained", type=float, default=0.0, metavar="SECONDS",
                   help="pretraining still running: compute the TF-IDF baseline first, then "
                        "wait up to SECONDS for --pretrained's report.json (written when "
                        "pretraining ends)")
    return p.parse_args(argv)


# The settings a merged report (--results-from) must share with this run.
SHARED_ARGS = ("epochs", "batch_size", "lr", "lr_frozen", "max_len", "limit", "seed",
               "val_reviews", "sizes", "curve_seeds", "curve_steps", "curve_test", "dropout",
               "curve_only")


def file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _finished(other: dict) -> bool:
    """A report whose run has written all it will: every variant and every curve run."""
    args = other["args"]
    done = all(v in other["results"] for v in ([] if args.get("curve_only") else args["variants"]))
    want = len(args["sizes"] or []) * args["curve_seeds"]
    return done and len(other.get("curve", {}).get("runs", [])) == want


def curve_rows(pool: int, n: int, seed: int) -> list[int]:
    """The small-data curve's n labelled reviews for one seed: rows of the first `pool` train
    reviews (the last --val-reviews are the validation set)."""
    return torch.randperm(pool, generator=torch.Generator().manual_seed(seed))[:n].tolist()


def update_baseline(args, log, command: str) -> dict:
    """--update-baseline: the TF-IDF numbers of an existing report, measured again."""
    from lmlib.data import load_nsmc

    out = Path(args.out)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    was = report["args"]  # the report's own split and settings, whatever this command says
    t0 = time.perf_counter()
    train = [r for r in load_nsmc("train", data_dir=args.data_dir, limit=was["limit"])
             if r.document.strip()]
    test = [r for r in load_nsmc("test", data_dir=args.data_dir) if r.document.strip()]
    if len(train) != report["data"]["train_reviews"] or len(test) != report["data"]["test_reviews"]:
        raise ValueError(f"{out / 'report.json'} was measured on {report['data']} reviews, "
                         f"these files have {len(train):,} / {len(test):,}: another split")
    n_val, test_y = was["val_reviews"], [r.label for r in test]
    g = torch.Generator().manual_seed(12345)
    test_rows = torch.randperm(len(test), generator=g)[:was["curve_test"]].tolist()
    ctest_texts, ctest_y = [test[i].document for i in test_rows], [test_y[i] for i in test_rows]
    before = report["results"]["tfidf"]["test_accuracy"]
    tfidf = tfidf_baseline(train[:-n_val], train[-n_val:], [r.document for r in test], test_y)
    tfidf["curve_test_accuracy"] = tfidf.pop("model").accuracy(ctest_texts, ctest_y)
    report["results"]["tfidf"] = tfidf
    for run in report.get("curve", {}).get("runs", []):
        sub = [train[i] for i in curve_rows(len(train) - n_val, run["size"], run["seed"])]
        run["tfidf"] = tfidf_baseline(sub, train[-n_val:], ctest_texts, ctest_y,
                                      refit=False)["test_accuracy"]
    report["baseline_update"] = {
        "command": command, "date": time.strftime("%Y-%m-%d"), "seconds": round(time.perf_counter() - t0, 1),
        "why": "lmlib.baselines.tfidf_logreg now fits with liblinear, whose result does not "
               "depend on the CPU (lbfgs's did, by a few test reviews)",
        "test_accuracy_before": before}
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    log(f"tfidf: test accuracy {before:.4f} -> {tfidf['test_accuracy']:.4f}")
    return report


def wait_for_file(path: Path, seconds: float) -> None:
    """Return once `path` exists; with seconds > 0 wait up to that long for it first (another
    process still writing it); missing after that: a FileNotFoundError naming it."""
    deadline = time.monotonic() + seconds
    while not path.is_file() and time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    if seconds > 0 and not path.is_file():
        raise FileNotFoundError(f"{path} did not appear within --wait-pretrained {seconds:g} s "
                                f"(is the pretraining still running?)")


def merge_reports(report: dict, folders: list[str], wait: float = 0.0) -> None:
    """Add the variants of other runs' reports (--results-from) to `report`, in place.

    Refuses a report whose settings, data, tokenizer or TF-IDF results differ from this
    run's (TF-IDF is deterministic: the same split gives the same numbers), whose pretrained
    weights differ for a variant that uses them, or that repeats a variant of this run.
    """
    for folder in folders:
        path = Path(folder) / "report.json"
        deadline = time.monotonic() + wait
        while True:  # a run in another process may still be writing its report
            other = json.loads(path.read_text()) if path.is_file() else None
            if (other is not None and _finished(other)) or time.monotonic() >= deadline:
                break
            time.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
        if other is None:
            raise FileNotFoundError(f"--results-from {folder}: no report.json there")
        if not _finished(other):
            raise ValueError(f"--results-from {folder}: that run has not finished (its report "
                             f"lacks variants or curve runs); wait for it or pass --wait")
        for key in SHARED_ARGS:
            if other["args"].get(key) != report["args"][key]:
                raise ValueError(f"--results-from {folder}: {key} is {other['args'].get(key)!r} "
                                 f"there, {report['args'][key]!r} here")
        for key in ("data", "tokenizer_sha256"):
            if other.get(key) != report[key]:
                raise ValueError(f"--results-from {folder}: {key} differs from this run's")
        if (other["results"].get("tfidf", {}).get("test_accuracy")
                != report["results"].get("tfidf", {}).get("test_accuracy")):
            raise ValueError(f"--results-from {folder}: its TF-IDF accuracy differs (another split?)")
        for variant in other["args"]["variants"]:
            if variant in report["results"]:
                raise ValueError(f"--results-from {folder}: variant {variant!r} is in two reports")
            if variant != "scratch" and other["pretrained_sha256"] != report["pretrained_sha256"]:
                raise ValueError(f"--results-from {folder}: {variant!r} was fine-tuned from "
                                 f"other pretrained weights")
            report["results"][variant] = other["results"][variant]
            report["merged_from"] = report.get("merged_from", []) + [
                {"variant": variant, "command": other["command"], "machine": other["machine"]}]
            if "curve" in report:
                runs = {(r["size"], r["seed"]): r for r in other["curve"]["runs"]}
                for run in report["curve"]["runs"]:
                    theirs = runs[(run["size"], run["seed"])]
                    if theirs["tfidf"] != run["tfidf"]:
                        raise ValueError(f"--results-from {folder}: curve run {run['size']}/"
                                         f"{run['seed']} has another TF-IDF result")
                    run[variant] = theirs[variant]


def encode_reviews(tok, texts, max_len):
    from lmlib.bert_data import encode_pair

    return [encode_pair(tok, t, None, max_len) for t in texts]


def bucketed_order(lengths: list[int], batch_size: int, epochs: int, seed: int,
                   pool: int = 50) -> torch.Tensor:
    """Example indices, batch after batch, for `epochs` shuffled passes over the data.

    Each pass shuffles the examples, sorts every run of `pool` batches by length and
    shuffles the resulting batches, so a batch holds reviews of similar length and is
    padded little (reviews run from 3 to 64 tokens). Incomplete batches are dropped.
    """
    g = torch.Generator().manual_seed(seed)
    lengths_t = torch.tensor(lengths)
    out = []
    for _ in range(epochs):
        perm = torch.randperm(len(lengths), generator=g)
        perm = perm[:len(perm) - len(perm) % batch_size]
        batches = []
        for chunk in perm.split(batch_size * pool):
            chunk = chunk[torch.argsort(lengths_t[chunk], stable=True)]
            batches += list(chunk.split(batch_size))
        out += [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
    return torch.cat(out)


@torch.no_grad()
def accuracy(model, encoded, labels, batch_size: int = 256) -> float:
    """Share of reviews whose argmax class equals the label, in eval mode."""
    from tqdm.auto import tqdm

    from lmlib.base import eval_mode
    from lmlib.bert_data import collate_pairs

    device = next(model.parameters()).device
    correct = 0
    with eval_mode(model):  # the caller's mode comes back (the curve measures mid-training)
        for i in tqdm(range(0, len(encoded), batch_size), desc="test accuracy", leave=False):
            ids, seg, mask = (t.to(device) for t in collate_pairs(encoded[i:i + batch_size]))
            pred = model(ids, seg, mask).logits.argmax(-1).cpu()
            correct += int((pred == torch.tensor(labels[i:i + batch_size])).sum())
    return correct / len(encoded)


def train_classifier(variant: str, pre, train_x, train_y, args, seed: int, steps: int | None = None,
                     val=None, machine=None):
    """One BertForSequenceClassification of `variant` trained on (train_x, train_y).

    steps=None: `args.epochs` passes, the last weights kept (the all-labels recipe). With
    `val` = (encoded, labels): `steps` steps over as many passes as they need, accuracy on
    val 10 times along the way, and the best of those weights kept (early stopping; the
    small-data runs, where a fixed number of passes would under- or over-train).
    machine (lmlib.distributed): with several processes, each trains on its share of every
    batch of args.batch_size reviews.
    """
    from lmlib.bert import BertForSequenceClassification
    from lmlib.bert_data import collate_pairs
    from lmlib.pretrain import train_steps

    torch.manual_seed(seed)
    if variant == "scratch":
        config = dataclasses.replace(pre.config, dropout=args.dropout)
        model = BertForSequenceClassification(config, n_labels=2)
    else:
        model = BertForSequenceClassification.from_pretraining(pre, n_labels=2,
                                                               dropout=args.dropout)
    if variant == "frozen":
        model.freeze_base()
    lengths = [len(ids) for ids, _ in train_x]
    per_epoch = len(train_x) // args.batch_size
    if per_epoch < 1:
        raise ValueError(f"{len(train_x)} train reviews make no batch of {args.batch_size}")
    epochs = args.epochs if steps is None else -(-steps // per_epoch)
    order = bucketed_order(lengths, args.batch_size, epochs, seed)
    steps = steps or len(order) // args.batch_size
    best = {"acc": -1.0, "step": 0, "state": None}

    def batch_loss(step: int) -> torch.Tensor:
        rows = order[step * args.batch_size:(step + 1) * args.batch_size].tolist()
        ids, seg, mask = collate_pairs([train_x[i] for i in rows])
        labels = train_y[rows]
        if machine is not None and machine.distributed:  # this process's share, padded as the batch
            share = machine.shard(args.batch_size)
            ids, seg, mask, labels = ids[share], seg[share], mask[share], labels[share]
        if machine is not None:
            ids, seg, mask, labels = (t.to(machine.device) for t in (ids, seg, mask, labels))
        return model(ids, seg, mask, labels=labels).loss

    def evaluate_fn() -> float:
        acc = accuracy(model, *val)
        if acc > best["acc"]:
            best.update(acc=acc, state={k: v.clone() for k, v in model.state_dict().items()})
        return acc

    t = time.perf_counter()
    history = train_steps(model, batch_loss, steps,
                          lr=args.lr_frozen if variant == "frozen" else args.lr,
                          warmup=steps // 10, weight_decay=0.01,
                          evaluate_fn=evaluate_fn if val is not None else None,
                          eval_every=max(1, steps // 10) if val is not None else steps,
                          seed=seed, desc=f"fine-tuning ({variant})", progress=val is None,
                          machine=machine)
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return model, {"train_seconds": round(time.perf_counter() - t, 1), "steps": steps,
                   "trainable_parameters": trainable, "history": history}


def tfidf_baseline(train, val, test_texts, test_labels, grid=(0.3, 1.0, 3.0, 10.0),
                   refit: bool = True) -> dict:
    """lmlib.baselines.tfidf_logreg with C chosen on `val` (reviews not in `train`), accuracy
    on the test reviews. refit=True refits on train + val (the all-labels run, where the BERTs
    train on every train review, val included); refit=False keeps the model fit on `train`
    alone (the small-data curve, where the BERTs train on `train` alone and use `val` only to
    stop early: refitting would give TF-IDF 5,000 more labels than they have)."""
    from lmlib.baselines import tfidf_logreg

    t = time.perf_counter()
    texts, labels = [r.document for r in train], [r.label for r in train]
    fits = {C: tfidf_logreg(texts, labels, C=C) for C in grid}
    val_acc = {C: m.accuracy([r.document for r in val], [r.label for r in val])
               for C, m in fits.items()}
    C = max(val_acc, key=val_acc.get)
    clf = (tfidf_logreg(texts + [r.document for r in val], labels + [r.label for r in val], C=C)
           if refit else fits[C])
    return {"test_accuracy": clf.accuracy(test_texts, test_labels), "C": C, "model": clf,
            "val_accuracy": {str(c): a for c, a in val_acc.items()},
            "train_seconds": round(time.perf_counter() - t, 1)}


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from tqdm.auto import tqdm

    from lmlib.distributed import setup, teardown

    machine = setup(args.device)
    machine.shard(args.batch_size)  # --batch-size must split equally: a clear error now
    log = print if machine.is_main else (lambda *a, **k: None)

    from lmlib.bert import load_pretraining
    from lmlib.data import TRAINED_IDS_FILE, load_nsmc, load_trained_ids, save_trained_ids
    from lmlib.tokenizer import Tokenizer

    t0 = time.perf_counter()
    if args.update_baseline:
        return update_baseline(args, log, "python scripts/finetune_bert.py " + " ".join(
            sys.argv[1:] if argv is None else argv))
    train = [r for r in load_nsmc("train", data_dir=args.data_dir, limit=args.limit)
             if r.document.strip()]
    test = [r for r in load_nsmc("test", data_dir=args.data_dir) if r.document.strip()]
    test_y = [r.label for r in test]
    # The baseline on the same split: C chosen on the last --val-reviews train reviews.
    n_val = args.val_reviews
    # The curve's fixed test sample; the all-labels models are measured on it too.
    g = torch.Generator().manual_seed(12345)
    test_rows = torch.randperm(len(test), generator=g)[:args.curve_test].tolist()
    ctest_y = [test_y[i] for i in test_rows]
    ctest_texts = [test[i].document for i in test_rows]
    tfidf = None
    if not args.curve_only:  # needs no BERT: it may run while pretraining still does
        tfidf = tfidf_baseline(train[:-n_val], train[-n_val:], [r.document for r in test], test_y)
        tfidf["curve_test_accuracy"] = tfidf.pop("model").accuracy(ctest_texts, ctest_y)
        log(f"tfidf: test accuracy {tfidf['test_accuracy']:.4f}")
    wait_for_file(Path(args.pretrained) / "report.json", args.wait_pretrained)

    pre = load_pretraining(args.pretrained)  # BertForPreTraining or ElectraForPreTraining
    tok = Tokenizer.load(args.pretrained)
    train_x = encode_reviews(tok, [r.document for r in train], args.max_len)
    train_y = torch.tensor([r.label for r in train])
    test_x = encode_reviews(tok, [r.document for r in test], args.max_len)
    ctest_x = [test_x[i] for i in test_rows]
    log(f"{len(train_x):,} train / {len(test_x):,} test reviews; {machine.summary()}")

    out = Path(args.out)
    # Every review the classifier saw in any stage: its labelled reviews and, when recorded,
    # the pretrained model's (lmlib.data.drop_trained_reviews drops them from official files).
    seen = {r.id for r in train}
    if (Path(args.pretrained) / TRAINED_IDS_FILE).is_file():
        seen |= load_trained_ids(args.pretrained)
    if machine.is_main:
        save_trained_ids(out, seen)
    report = {
        "command": "python scripts/finetune_bert.py " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
        "args": vars(args),
        "machine": machine.summary(),
        "devices": machine.describe(),
        "date": time.strftime("%Y-%m-%d"),
        "data": {"train_reviews": len(train_x), "test_reviews": len(test_x)},
        "tokenizer_sha256": file_sha256(Path(args.pretrained) / "tokenizer.json"),
        "pretrained_sha256": file_sha256(Path(args.pretrained) / "model.safetensors"),
        "results": {},
    }

    if tfidf is not None:
        report["results"]["tfidf"] = tfidf
    for variant in [] if args.curve_only else args.variants:
        model, info = train_classifier(variant, pre, train_x, train_y, args, seed=args.seed,
                                       machine=machine)
        acc = accuracy(model, test_x, test_y)
        report["results"][variant] = {"test_accuracy": acc, "train_seconds": info["train_seconds"],
                                      "trainable_parameters": info["trainable_parameters"],
                                      "steps": info["steps"],
                                      "curve_test_accuracy": accuracy(model, ctest_x, ctest_y),
                                      "train_loss": info["history"]["train_loss"]}
        log(f"{variant}: test accuracy {acc:.4f} ({info['train_seconds']:.0f} s)")
        if variant == "pretrained" and machine.is_main:
            model.save(out, tokenizer=tok)

    # The small-data curve (L24): n labelled reviews drawn from all but the last n_val train
    # reviews (the validation set for early stopping and for C), a fixed test sample.
    if args.sizes:
        val = ([train_x[i] for i in range(len(train) - n_val, len(train))],
               train_y[-n_val:].tolist())
        pool = len(train) - n_val
        curve = {"test_reviews": len(test_rows), "val_reviews": n_val,
                 "steps": args.curve_steps, "runs": []}
        runs = [(n, s) for n in args.sizes for s in range(args.curve_seeds)]
        for n, s in tqdm(runs, desc="small-data curve", disable=not machine.is_main):
            rows = curve_rows(pool, n, s)
            sub = [train[i] for i in rows]
            run = {"size": n, "seed": s}
            run["tfidf"] = tfidf_baseline(sub, train[-n_val:], ctest_texts, ctest_y,
                                          refit=False)["test_accuracy"]
            for variant in args.variants:
                steps = max(args.curve_steps, args.epochs * (n // args.batch_size))
                model, info = train_classifier(variant, pre, [train_x[i] for i in rows],
                                               train_y[rows], args, seed=s, steps=steps, val=val,
                                               machine=machine)
                run[variant] = accuracy(model, ctest_x, ctest_y)
            curve["runs"].append(run)
            log(json.dumps(run))
            report["curve"] = curve
            report["total_seconds"] = round(time.perf_counter() - t0, 1)
            if machine.is_main:
                (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False)
                                                 + "\n")
    merge_reports(report, args.results_from, wait=args.wait)
    report["total_seconds"] = round(time.perf_counter() - t0, 1)
    if machine.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    teardown()
    return report


if __name__ == "__main__":
    main()
