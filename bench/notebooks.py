"""Each chapter's execution time and peak memory, and the book build cold and cached.

A chapter runs in a child process (`python -m bench.notebooks PATH`) that executes the
notebook with nbclient, as nbval and the book do, and reports the wall time and the
kernel's peak resident memory (getrusage of the waited-for kernel process). The
notebook file is not modified.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .core import Row

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_LIMIT_S = 60.0
BOOK_COLD_LIMIT_S = 300.0
BOOK_CACHED_LIMIT_S = 30.0


def run_one(path: Path) -> dict:
    """Execute one notebook in its folder (not saved); seconds and kernel peak RSS in MiB."""
    import nbformat

    sys.path.insert(0, str(ROOT / "scripts"))
    from nbexec import notebook_client  # nbclient that cannot stall on a missed kernel reply

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    notebook_client(nb, timeout=600, kernel_name="python3",
                    resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    # the kernel has exited and been waited for: its peak RSS is in RUSAGE_CHILDREN (KiB)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "kernel_peak_mib": peak_kib / 1024}


def notebook_paths() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def bench_notebooks(size: str = "default", repeat: int = 1,
                    paths: list[Path] | None = None) -> list[Row]:
    """Execute every chapter `repeat` times, each in a fresh kernel."""
    from tqdm.auto import tqdm

    rows = []
    for path in tqdm(paths if paths is not None else notebook_paths(), desc="notebooks"):
        times, peaks = [], []
        for _ in range(repeat):
            proc = subprocess.run([sys.executable, "-m", "bench.notebooks", str(path)],
                                  cwd=ROOT, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"executing {path.name} failed:\n{proc.stderr[-3000:]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            times.append(r["seconds"])
            peaks.append(r["kernel_peak_mib"])
        rows.append(Row("notebook execution", path.stem, times, goal="≤ 60 s",
                        max_seconds=CHAPTER_LIMIT_S, note=f"peak memory {max(peaks):,.0f} MiB",
                        extra={"kernel_peak_mib": max(peaks)}))
    return rows


def bench_book(size: str = "default", repeat: int = 1) -> list[Row]:
    """The book as `make book` builds it (scripts/prefill_book_cache.py, which executes the
    notebooks one per core into the execution cache, then `jupyter-book build`), into a fresh
    folder (cold), then both again (cached: nothing left to execute)."""
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        raise FileNotFoundError(f"{jb} not found; install requirements.txt first")
    cold, cached = [], []
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(prefix="lmcb-bench-book-"))
        try:
            prefill = [sys.executable, str(ROOT / "scripts" / "prefill_book_cache.py"),
                       "--path-output", str(out)]
            cmd = [str(jb), "build", ".", "--all", "-W", "-n", "--keep-going",
                   "--path-output", str(out)]
            for times in (cold, cached):  # first with an empty jupyter-cache, then with it
                start = time.perf_counter()
                for step in (prefill, cmd):
                    proc = subprocess.run(step, cwd=ROOT, capture_output=True, text=True,
                                          check=False)
                    if proc.returncode != 0:
                        raise RuntimeError(f"book build failed ({step[1]}):\n"
                                           f"{(proc.stdout + proc.stderr)[-3000:]}")
                times.append(time.perf_counter() - start)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return [Row("book build", "cold (empty execution cache)", cold, goal="≤ 5 min",
                max_seconds=BOOK_COLD_LIMIT_S),
            Row("book build", "cached (second build, same folder)", cached, goal="≤ 30 s",
                max_seconds=BOOK_CACHED_LIMIT_S)]


if __name__ == "__main__":  # the child process of bench_notebooks
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(json.dumps(run_one(Path(sys.argv[1]))))
