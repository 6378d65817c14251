"""Fine-tune the chapter-7 BERT for NSMC sentiment, against two baselines; the chapter-8 table.

The checkpoint and the accuracy table that chapter 8 loads (lmlib/checkpoints/
bert_nsmc_sentiment) are made by exactly:

    .venv/bin/python scripts/finetune_bert.py

(`make finetune-bert` runs the same; it needs lmlib/checkpoints/bert_nsmc from
scripts/pretrain_bert.py). Three classifiers, one recipe (same data order, steps, batch,
schedule), each lmlib.bert.BertForSequenceClassification ([CLS] review [SEP] -> pooled
[CLS] vector -> one linear layer):

  pretrained  base from the pretrained BERT, base and adapter both trained (fine-tuning)
  scratch     the same model from random weights, everything trained
  frozen      base from the pretrained BERT but frozen, only the adapter trained

Training makes 2 passes over the 150,000 train reviews in batches of 64 reviews of similar
length (bucketed_order: little padding). Accuracy on the whole NSMC test split goes to
report.json; the fine-tuned `pretrained` classifier is saved next to it.
"""

from __future__ import annotations

import argparse
import json
import platform
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
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


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

    from lmlib.bert_data import collate_pairs

    model.eval()
    correct = 0
    for i in tqdm(range(0, len(encoded), batch_size), desc="test accuracy", leave=False):
        ids, seg, mask = collate_pairs(encoded[i:i + batch_size])
        pred = model(ids, seg, mask).logits.argmax(-1)
        correct += int((pred == torch.tensor(labels[i:i + batch_size])).sum())
    return correct / len(encoded)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from lmlib.bert import BertForPreTraining, BertForSequenceClassification
    from lmlib.bert_data import collate_pairs
    from lmlib.data import TRAINED_IDS_FILE, load_nsmc, load_trained_ids, save_trained_ids
    from lmlib.pretrain import train_steps
    from lmlib.tokenizer import Tokenizer

    t0 = time.perf_counter()
    pre = BertForPreTraining.load(args.pretrained)
    tok = Tokenizer.load(args.pretrained)
    train = [r for r in load_nsmc("train", data_dir=args.data_dir, limit=args.limit)
             if r.document.strip()]
    test = [r for r in load_nsmc("test", data_dir=args.data_dir) if r.document.strip()]
    train_x = encode_reviews(tok, [r.document for r in train], args.max_len)
    train_y = torch.tensor([r.label for r in train])
    test_x = encode_reviews(tok, [r.document for r in test], args.max_len)
    test_y = [r.label for r in test]
    order = bucketed_order([len(ids) for ids, _ in train_x], args.batch_size, args.epochs,
                           args.seed)  # the same batches, in the same order, for every variant
    steps = len(order) // args.batch_size
    print(f"{len(train_x):,} train / {len(test_x):,} test reviews; {steps:,} steps of "
          f"{args.batch_size}")

    out = Path(args.out)
    # Every review the classifier saw in any stage: its labelled reviews and, when recorded,
    # the pretrained model's (lmlib.data.drop_trained_reviews drops them from official files).
    seen = {r.id for r in train}
    if (Path(args.pretrained) / TRAINED_IDS_FILE).is_file():
        seen |= load_trained_ids(args.pretrained)
    save_trained_ids(out, seen)
    report = {
        "command": "python scripts/finetune_bert.py " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
        "args": vars(args),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, "
                   f"torch {torch.__version__}",
        "date": time.strftime("%Y-%m-%d"),
        "data": {"train_reviews": len(train_x), "test_reviews": len(test_x), "steps": steps},
        "results": {},
    }
    for variant in args.variants:
        torch.manual_seed(args.seed)
        if variant == "scratch":
            model = BertForSequenceClassification(pre.config, n_labels=2)
        else:
            model = BertForSequenceClassification.from_pretraining(pre, n_labels=2)
        if variant == "frozen":
            model.freeze_base()
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

        def batch_loss(step: int, model=model) -> torch.Tensor:
            rows = order[step * args.batch_size:(step + 1) * args.batch_size].tolist()
            ids, seg, mask = collate_pairs([train_x[i] for i in rows])
            return model(ids, seg, mask, labels=train_y[rows]).loss

        t = time.perf_counter()
        history = train_steps(model, batch_loss, steps,
                              lr=args.lr_frozen if variant == "frozen" else args.lr,
                              warmup=steps // 10, weight_decay=0.01, eval_every=steps,
                              seed=args.seed, desc=f"fine-tuning ({variant})")
        seconds = time.perf_counter() - t
        acc = accuracy(model, test_x, test_y)
        report["results"][variant] = {"test_accuracy": acc, "train_seconds": round(seconds, 1),
                                      "trainable_parameters": trainable,
                                      "train_loss": history["train_loss"]}
        print(f"{variant}: test accuracy {acc:.4f} ({seconds:.0f} s, {trainable:,} trained)")
        if variant == "pretrained":
            model.save(out)
            tok.save(out)
    report["total_seconds"] = round(time.perf_counter() - t0, 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return report


if __name__ == "__main__":
    main()
