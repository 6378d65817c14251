"""Structural checks of every chapter notebook (nbval checks the outputs themselves).

nbval passes a notebook with no stored outputs silently, so these tests make sure
each notebook was executed top to bottom and that its outputs are clean.
"""

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import setup_cell  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        for mime, val in out.get("data", {}).items():
            if mime.startswith("text/"):
                parts.append("".join(val))
    return "\n".join(parts)


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 2


def test_setup_cell_is_canonical():
    assert setup_cell.deviations() == []


def test_setup_cell_follows_the_repository_setting(tmp_path):
    cfg = tmp_path / "_config.yml"
    cfg.write_text("repository:\n  url: https://github.com/Someone/fork\n  branch: dev\n")
    src = setup_cell.canonical_source("05_transformer", cfg)
    assert "https://someone.github.io/fork/wheels/lm_coursebook-" in src  # where `make book` puts it
    assert 'f"lm-coursebook[bleu] @ {wheel}"' in src  # chapter 5's extra
    assert "google.colab" in src and "LMLIB_WHEEL" in src
    assert 'f"lm-coursebook @ {wheel}"' in setup_cell.canonical_source("02_forward_backward", cfg)


def test_setup_cell_extras_exist_in_pyproject():
    extras = setup_cell._pyproject()["project"]["optional-dependencies"]
    for stem, names in setup_cell.EXTRAS.items():
        assert (ROOT / "notebooks" / f"{stem}.ipynb").exists(), stem
        assert set(names) <= set(extras), stem


def test_setup_cell_refuses_a_config_without_a_github_url(tmp_path):
    cfg = tmp_path / "_config.yml"
    cfg.write_text("repository:\n  url: https://gitlab.com/x\n")
    with pytest.raises(ValueError, match="repository.url"):
        setup_cell.canonical_source("01_sentence_probability", cfg)


def test_every_notebook_is_in_the_toc_and_back():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"file:\s*(notebooks/\S+)", toc))
    assert listed == {f"notebooks/{p.stem}" for p in NOTEBOOKS}


def test_colab_button_configured():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cfg["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert cfg["repository"]["url"].startswith("https://github.com/")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom_with_outputs(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cells were never executed"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not executed in one top-to-bottom run"
    with_output = sum(1 for c in cells if c["outputs"])
    assert with_output >= len(cells) // 2, f"{path.name}: only {with_output} of {len(cells)} code cells have outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_clean(path):
    for i, cell in enumerate(code_cells(load(path))):
        assert not any(o["output_type"] == "error" for o in cell["outputs"]), f"{path.name} cell {i}: error output"
        text = output_text(cell)
        for bad in ("findfont", "Glyph", "glyph", "missing from font", "Warning:", "/work/", "/home/", "/root/", "/tmp/"):
            assert bad not in text, f"{path.name} code cell {i}: stored output contains {bad!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_shape(path):
    nb = load(path)
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert re.search(r"^# ", md, re.M), f"{path.name}: no title"
    assert "연습문제" in md, f"{path.name}: no exercises section"
    assert "<details>" in md, f"{path.name}: exercise solutions should sit behind a <details> toggle"
    code = "\n".join("".join(c["source"]) for c in code_cells(nb))
    assert "from lmlib import exercises" in code and len(re.findall(r"exercises\.ch\d+_", code)) >= 2, \
        f"{path.name}: exercises are not checked with lmlib.exercises checkers"


def _slugs(path):
    from mdit_py_plugins.anchors.index import slugify

    nb = load(path)
    # _config.yml: myst_heading_anchors: 3, so "##" and "###" headings have anchors
    return {slugify(line.lstrip("#").strip()) for c in nb["cells"] if c["cell_type"] == "markdown"
            for line in "".join(c["source"]).splitlines() if line.startswith(("## ", "### "))}


def test_lecture_map_lists_every_point_and_links_resolve():
    text = (ROOT / "book" / "lecture_map.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (L\d+) \|", text, re.M)
    assert rows == [f"L{i}" for i in range(1, 26)]
    links = re.findall(r"\(\.\./(notebooks/[^)#]+\.ipynb)#([^)]+)\)", text)
    assert links, "the lecture map links no chapter section"
    for nb, anchor in links:
        assert (ROOT / nb).exists(), f"lecture map links a missing notebook {nb}"
        assert anchor in _slugs(ROOT / nb), f"lecture map links a missing section {nb}#{anchor}"
    for nb in NOTEBOOKS:  # every landed chapter shows up in the map
        assert f"notebooks/{nb.name}" in text, f"{nb.name} is not in the lecture map"


def _requirement_name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;@]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _imported_top_modules(nb) -> set[str]:
    import ast

    tops = set()
    for cell in code_cells(nb):
        src = "\n".join(line for line in "".join(cell["source"]).splitlines()
                        if not line.lstrip().startswith(("%", "!")))  # IPython magics are not Python
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                tops |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops.add(node.module.split(".")[0])
    return tops


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_import_is_a_declared_dependency(path):
    """In Colab only lmlib's declared dependencies (and the chapter's extras) get installed."""
    import importlib.metadata

    project = setup_cell._pyproject()["project"]
    declared = {_requirement_name(r) for r in project["dependencies"]}
    for extra in setup_cell.EXTRAS.get(path.stem, []):
        declared |= {_requirement_name(r) for r in project["optional-dependencies"][extra]}
    providers = importlib.metadata.packages_distributions()
    missing = []
    for top in sorted(_imported_top_modules(load(path))):
        if top in sys.stdlib_module_names or top == "lmlib":
            continue
        dists = {d.lower().replace("_", "-") for d in providers.get(top, [])}
        if not dists & declared:
            missing.append(f"{top} (from {sorted(dists) or 'no installed distribution'})")
    assert not missing, (f"{path.name} imports {missing}, which neither pyproject's dependencies nor "
                         f"the chapter's extras {setup_cell.EXTRAS.get(path.stem, [])} install")


def test_the_import_check_catches_an_undeclared_import(monkeypatch):
    nb = {"cells": [{"cell_type": "code", "source": ["%matplotlib inline\n", "import sacrebleu\n",
                                                      "from lmlib import viz\n"]}]}
    assert _imported_top_modules(nb) == {"sacrebleu", "lmlib"}
    monkeypatch.setattr(setup_cell, "EXTRAS", {})
    monkeypatch.setattr(sys.modules[__name__], "load", lambda path: nb)
    with pytest.raises(AssertionError, match="sacrebleu"):
        test_every_import_is_a_declared_dependency(ROOT / "notebooks" / "05_transformer.ipynb")


def _bench_seconds() -> dict[str, float]:
    rows = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))["rows"]
    return {r["case"]: r["ours_median"] for r in rows if r["benchmark"] == "notebook execution"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_run_time_in_prose_matches_the_benchmark_page(path):
    """A chapter's "**실행 시간**: ... 약 N초" is the time `python -m bench` measured for it
    (bench/results.json, the data of book/benchmarks.md), rounded: within 5 s or 25%."""
    md = "\n".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    m = re.search(r"\*\*실행 시간\*\*:[^\n]*?약 (\d+)초", md)
    assert m, f"{path.name}: no '**실행 시간**: ... 약 N초' line"
    measured = _bench_seconds().get(path.stem)
    assert measured is not None, f"{path.name}: bench/results.json has no run time; run python -m bench --only notebooks"
    stated = int(m.group(1))
    assert abs(stated - measured) <= max(5.0, 0.25 * measured), (
        f"{path.name} says 약 {stated}초, the benchmark page measured {measured:.1f} s; "
        f"correct the prose (or re-run python -m bench --only notebooks)")
