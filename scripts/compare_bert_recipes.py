"""Compare pretraining recipes for the course BERT at one small, equal budget (issue: L24).

Each recipe is scripts/pretrain_bert.py with the same sizes, batch, steps, schedule and
seed; only the recipe options differ. Every run's held-out results (MLM and NSP accuracy on
the same pairs of the NSMC test split, token-level masks for every recipe; and the test
accuracy after fine-tuning on the same 2,000 labelled reviews, the small-data regime of
L24) go into one JSON file beside the shipped checkpoint, so the recipe chosen for lmlib/checkpoints/bert_nsmc
is evidence, not a guess. Made by exactly:

    .venv/bin/python scripts/compare_bert_recipes.py --data-dir $LMLIB_NSMC_DIR

A run whose folder already holds a report is not repeated (the script can be restarted).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

# name -> pretrain_bert.py options; a run's folder is runs/bert_recipes/recipe<index>.
RECIPES = {
    "nsmc-train, token masks, dropout 0.1 (the first checkpoint's recipe)":
        ["--corpus", "nsmc-train", "--no-whole-word", "--dropout", "0.1"],
    "unlabeled, token masks, dropout 0.1":
        ["--corpus", "unlabeled", "--no-whole-word", "--dropout", "0.1"],
    "unlabeled, whole-word masks, no dropout (the shipped checkpoint's recipe)":
        ["--corpus", "unlabeled", "--whole-word", "--dropout", "0"],
    "unlabeled, whole-word masks, dropout 0.1":
        ["--corpus", "unlabeled", "--whole-word", "--dropout", "0.1"],
    "unlabeled, whole-word masks, no dropout, ELECTRA (replaced-token detection)":
        ["--corpus", "unlabeled", "--whole-word", "--dropout", "0", "--objective", "electra"],
}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--steps", type=int, default=1000, help="the budget of every recipe")
    p.add_argument("--runs", default=str(ROOT / "runs" / "bert_recipes"))
    p.add_argument("--out", default=str(ROOT / "lmlib" / "checkpoints" / "bert_nsmc" / "recipes.json"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--probe-labels", type=int, default=2000,
                   help="each recipe's BERT fine-tuned on this many labelled reviews")
    p.add_argument("--probe-test", type=int, default=10000, help="test reviews for the probe")
    p.add_argument("--only", type=int, nargs="*", default=None, metavar="INDEX",
                   help="run and report only these recipes (indices into RECIPES), e.g. when "
                        "the budget of one session allows only some")
    p.add_argument("--probe-args", default="",
                   help="more options for finetune_bert.py (tests: tiny sizes)")
    args, extra = p.parse_known_args(argv)  # the rest goes to every pretrain_bert.py run
    import finetune_bert
    import pretrain_bert

    results = []
    for i, (name, options) in enumerate(RECIPES.items()):
        if args.only is not None and i not in args.only:
            continue
        folder = Path(args.runs) / f"recipe{i}"
        if not (folder / "report.json").is_file():
            run_argv = options + ["--steps", str(args.steps), "--eval-every", str(args.steps),
                                  "--threads", str(args.threads), "--out", str(folder)] + extra
            if args.data_dir:
                run_argv += ["--data-dir", args.data_dir]
            pretrain_bert.main(run_argv)
        report = json.loads((folder / "report.json").read_text())
        probe = folder / "probe"
        if not (probe / "report.json").is_file():  # downstream: fine-tuned on 2,000 labels
            ft_argv = ["--pretrained", str(folder), "--out", str(probe), "--variants",
                       "pretrained", "--curve-only", "--sizes", str(args.probe_labels),
                       "--curve-seeds", "1", "--curve-test", str(args.probe_test),
                       "--threads", str(args.threads)] + shlex.split(args.probe_args)
            if args.data_dir:
                ft_argv += ["--data-dir", args.data_dir]
            finetune_bert.main(ft_argv)
        run = json.loads((probe / "report.json").read_text())["curve"]["runs"][0]
        results.append({"recipe": name, "options": options, **report["recipe"],
                        "held_out": report["held_out"],
                        f"accuracy_{args.probe_labels}_labels": run["pretrained"],
                        f"tfidf_{args.probe_labels}_labels": run["tfidf"],
                        "train_seconds": report["train_seconds"], "machine": report["machine"]})
        print(json.dumps(results[-1], ensure_ascii=False))
    summary = {"command": "python scripts/compare_bert_recipes.py " + shlex.join(
                   sys.argv[1:] if argv is None else argv),
               "date": time.strftime("%Y-%m-%d"), "steps": args.steps,
               "batch_size": 64, "probe_test_reviews": args.probe_test,
               "measure": "held-out MLM accuracy (token-level masks) and NSP accuracy on the "
               "same NSMC test pairs; test accuracy after fine-tuning on the same "
               f"{args.probe_labels:,} labelled reviews (scripts/finetune_bert.py --curve-only, "
               "seed 0), TF-IDF + LR on them beside it", "results": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


if __name__ == "__main__":
    main()
