"""Run the benchmark suite and print (and save) the table.

    python -m bench                       # everything at the default sizes (= make bench)
    python -m bench --only attention gpt2_forward --repeat 20
    python -m bench --size large          # larger inputs
    python -m bench --only ngram --no-write
    python -m bench --only gpt_train_step --profile   # where the time goes, op by op
    python -m bench --page                # re-render the book page (after editing analysis.md)

Writes bench/results.json and the book's appendix page book/benchmarks.md (unless
--no-write, or when only some benchmarks ran: the page always shows one whole run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import BENCHMARKS, ROOT
from .core import machine, markdown_table

RESULTS = ROOT / "bench" / "results.json"
PAGE = ROOT / "book" / "benchmarks.md"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS),
                   metavar="NAME", help=f"benchmarks to run, of: {', '.join(BENCHMARKS)}")
    p.add_argument("--size", choices=("tiny", "default", "large"), default="default")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed runs per case (default: each benchmark's own)")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--page", action="store_true",
                   help="only re-render book/benchmarks.md from bench/results.json (no timing)")
    p.add_argument("--profile", action="store_true",
                   help="also print torch.profiler's table for lmlib and the reference")
    args = p.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        p.error(f"--repeat must be >= 1, got {args.repeat}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.page:  # e.g. after editing bench/analysis.md: the numbers stay those of the run
        from .page import write_page

        write_page(json.loads(RESULTS.read_text(encoding="utf-8")), PAGE)
        print(f"wrote {PAGE.relative_to(ROOT)} from {RESULTS.relative_to(ROOT)}")
        return 0
    import torch

    from .core import PROFILE

    PROFILE["on"] = args.profile
    command = "python -m bench" + ("" if argv is None and len(sys.argv) == 1 else
                                   " " + " ".join(sys.argv[1:] if argv is None else argv))
    rows, seconds = [], {}
    for name in args.only:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        kw = {"size": args.size} | ({"repeat": args.repeat} if args.repeat else {})
        torch.manual_seed(0)
        new = BENCHMARKS[name](**kw)
        seconds[name] = round(time.perf_counter() - start, 1)
        print(markdown_table(new), flush=True)
        rows += new
    table = markdown_table(rows)
    result = {"command": command, "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
              "size": args.size, "seconds_per_benchmark": seconds,
              "rows": [r.to_dict() for r in rows], "table": table}
    print("\n" + table)
    missed = [f"{r.benchmark}: {r.case}" for r in rows if not r.met]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} goals met" +
          ("; missed:\n  " + "\n  ".join(missed) if missed else ""))
    whole_run = set(args.only) == set(BENCHMARKS) and args.size == "default" and not args.profile
    if not args.no_write and whole_run:
        RESULTS.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                           encoding="utf-8")
        from .page import write_page

        write_page(result, PAGE)
        print(f"wrote {RESULTS.relative_to(ROOT)} and {PAGE.relative_to(ROOT)}")
    elif not args.no_write:
        print("(a partial run: bench/results.json and the book page were left as they are)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
