"""Execute notebooks in place (as the book and nbval do) and print each one's wall time.

    python scripts/execute_notebooks.py notebooks/*.ipynb
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat

from nbexec import notebook_client


KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def normalise(nb) -> None:
    """Keep only metadata that means something to readers, Colab and nbval (small, stable diffs).

    The saved widget state goes too: the book shows lmlib.widgets' static HTML, and the
    state would only bloat the file (it embeds every plot the live widget drew).
    """
    nb.metadata = nbformat.NotebookNode({"kernelspec": KERNELSPEC,
                                         "language_info": {"name": "python"}})
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # per-run timestamps


def execute(path: Path, timeout: int = 600) -> float:
    """Run every cell of the notebook at `path` in its own folder, save it, return seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    notebook_client(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                    resources={"metadata": {"path": str(path.parent)}}).execute()
    normalise(nb)
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]]
    if not paths:
        sys.exit("usage: execute_notebooks.py NOTEBOOK.ipynb [...]")
    for p in paths:
        print(f"{execute(p):7.1f} s  {p}", flush=True)
