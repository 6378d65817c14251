"""Backfill trained_ids.npz for a checkpoint trained before the scripts recorded it.

The training scripts now write trained_ids.npz themselves (lmlib.data.save_trained_ids).
For a checkpoint made earlier, this re-derives the ids from its report.json: the script's
--corpus (default the NSMC train split), --limit and --data-dir, and, for a fine-tuned
model, the ids of the --pretrained model it started from.

    .venv/bin/python scripts/record_trained_ids.py lmlib/checkpoints/bert_nsmc \
        lmlib/checkpoints/bert_nsmc_sentiment
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def trained_ids(folder: Path) -> set[str]:
    from lmlib.data import load_nsmc, load_trained_ids, load_unlabeled_reviews

    report = json.loads((folder / "report.json").read_text())
    args = report["args"]
    if args.get("corpus", "nsmc-train") == "unlabeled":
        rows = load_unlabeled_reviews(args.get("data_dir"), limit=args.get("limit"))
    else:
        rows = load_nsmc("train", data_dir=args.get("data_dir"), limit=args.get("limit"))
    ids = {r.id for r in rows}
    if args.get("pretrained"):
        ids |= load_trained_ids(Path(args["pretrained"]).name
                                if not Path(args["pretrained"]).is_dir() else args["pretrained"])
    return ids


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path, help="checkpoint folders with report.json")
    args = p.parse_args(argv)
    from lmlib.data import save_trained_ids

    for folder in args.folders:  # in the order given: a pretrained model before its fine-tuned one
        n = save_trained_ids(folder, trained_ids(folder))
        print(f"{folder}: {n:,} trained review ids")


if __name__ == "__main__":
    main()
