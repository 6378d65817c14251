"""The one canonical setup cell that opens every notebook.

The install line is derived from `repository.url` and `repository.branch` in
_config.yml, the same setting that drives the book's Colab button, so the two
cannot disagree.

    python scripts/setup_cell.py --write   # put the canonical cell first in every notebook
    python scripts/setup_cell.py --check   # exit 1 and name each notebook that deviates
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TAG = "setup-cell"
# "remove-cell": the published book hides the cell (it matters only in Colab).
TAGS = [TAG, "remove-cell"]

TEMPLATE = '''\
# 준비 셀: Colab에서는 이 책의 패키지(lmlib)를 설치하고, 그 밖의 환경에서는 아무 일도 하지 않습니다.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "lm-coursebook @ git+{url}@{branch}"],
        check=True,
    )'''


def canonical_source(config_path: Path = ROOT / "_config.yml") -> str:
    """Render the setup cell's source from the repository setting in _config.yml."""
    repo = yaml.safe_load(config_path.read_text(encoding="utf-8"))["repository"]
    return TEMPLATE.format(url=repo["url"].rstrip("/"), branch=repo.get("branch", "main"))


def notebooks() -> list[Path]:
    """Every chapter notebook, in name order."""
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def deviations() -> list[str]:
    """One message per notebook whose first cell is not the canonical setup cell."""
    want = canonical_source()
    bad = []
    for path in notebooks():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = cells[0] if cells else {}
        if first.get("cell_type") != "code" or cell_source(first) != want:
            bad.append(f"{path.relative_to(ROOT)}: first cell is not the canonical setup cell")
        elif first.get("metadata", {}).get("tags") != TAGS:
            bad.append(f"{path.relative_to(ROOT)}: setup cell tags should be {TAGS}")
    return bad


def write() -> None:
    """Make the canonical setup cell the first cell of every notebook (replacing an old one)."""
    import nbformat  # only the writer needs it; --check runs with the standard library

    want = canonical_source()
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        cells = nb.cells
        if cells and TAG in cells[0].get("metadata", {}).get("tags", []):
            cells[0].source = want
            cells[0].metadata["tags"] = list(TAGS)
        else:
            cell = nbformat.v4.new_code_cell(want, metadata={"tags": list(TAGS)})
            cell.id = "setup"
            cells.insert(0, cell)
        nbformat.write(nb, path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if args.write:
        write()
    problems = deviations()
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if (args.check and problems) else 0)
