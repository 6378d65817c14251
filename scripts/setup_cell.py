"""The one canonical setup cell that opens every notebook.

The wheel it installs is the one the published book serves (GitHub Pages of
`repository.url` in _config.yml, the same setting that drives the book's Colab
button), so the two cannot disagree; each chapter adds only the extras it needs
(EXTRAS below). In Colab the cell prints what it installs, how long it took, the
versions it found and whether the runtime must be restarted; on failure, one short
Korean message with the fix. LMLIB_WHEEL overrides the wheel's location (CI's Colab
imitation, scripts/colab_sim.py, points it at a freshly built local wheel).

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

# What each chapter needs beyond lmlib's own dependencies (pyproject's optional-dependencies):
# installed only where used, so the other chapters' setup stays small and fast.
EXTRAS = {
    "01_sentence_probability": ["morph"],  # Kiwi and its 88 MB model: morpheme tokenization
    "05_transformer": ["bleu"],            # sacreBLEU: BLEU and chrF
    "08_finetune": ["bertviz", "baselines"],  # bertviz: attention in the live notebook; scikit-learn
}

TEMPLATE = '''\
# 준비 셀: Colab에서는 이 책의 패키지(lmlib)를 설치하고, 그 밖의 환경에서는 아무 일도 하지 않습니다.
import sys

if "google.colab" in sys.modules:
    import importlib.metadata, os, subprocess, time

    wheel = os.environ.get("LMLIB_WHEEL", "{wheel_url}")
    spec = f"lm-coursebook{extras} @ {{wheel}}"
    before = {{d.metadata["Name"].lower(): d.version for d in importlib.metadata.distributions()}}
    print(f"lmlib 설치 중: {{spec.split(' @ ')[0]}} ({{wheel.rsplit('/', 1)[-1]}}) ...", flush=True)
    started = time.time()
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        print(pip.stderr.strip()[-1500:])
        raise SystemExit("lmlib 설치에 실패했습니다. 인터넷 연결을 확인하고, 메뉴 '런타임 > 세션 다시 시작' 뒤 "
                         "이 셀부터 다시 실행하세요. 위의 pip 오류가 원인을 알려 줍니다.")
    import lmlib.runtime
    lmlib.runtime.report_install(before, seconds=time.time() - started)'''


def _pyproject() -> dict:
    import tomllib  # Python 3.11+

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def wheel_url(config_path: Path = ROOT / "_config.yml") -> str:
    """Where the published book serves lmlib's wheel (GitHub Pages of the repository in _config.yml).

    `make book` builds the wheel into _build/html/wheels/, so the site and the setup cell
    always carry the same lmlib.
    """
    repo = yaml.safe_load(config_path.read_text(encoding="utf-8"))["repository"]
    parts = repo["url"].rstrip("/").split("/")
    if len(parts) < 5 or parts[2] != "github.com":
        raise ValueError(f"{config_path}: repository.url must be https://github.com/OWNER/REPO, got {repo['url']!r}")
    owner, name = parts[3], parts[4]
    project = _pyproject()["project"]
    filename = f"{project['name'].replace('-', '_')}-{project['version']}-py3-none-any.whl"
    return f"https://{owner.lower()}.github.io/{name}/wheels/{filename}"


def canonical_source(notebook: str, config_path: Path = ROOT / "_config.yml") -> str:
    """Render the setup cell of the notebook named `notebook` (a file stem) from _config.yml."""
    extras = EXTRAS.get(notebook, [])
    unknown = set(extras) - set(_pyproject()["project"].get("optional-dependencies", {}))
    if unknown:
        raise ValueError(f"EXTRAS[{notebook!r}]: {sorted(unknown)} are not optional-dependencies in pyproject.toml")
    return TEMPLATE.format(wheel_url=wheel_url(config_path), extras=f"[{','.join(extras)}]" if extras else "")


def notebooks() -> list[Path]:
    """Every chapter notebook, in name order."""
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def deviations() -> list[str]:
    """One message per notebook whose first cell is not the canonical setup cell."""
    bad = []
    for path in notebooks():
        want = canonical_source(path.stem)
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

    for path in notebooks():
        want = canonical_source(path.stem)
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
