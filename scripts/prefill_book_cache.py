"""Execute the book's notebooks side by side into the cache that `jupyter-book build` reads.

    python scripts/prefill_book_cache.py [--toc _toc.yml] [--path-output .]

The book executes its notebooks in jupyter-cache mode (_config.yml): a notebook whose code
changed since the last build is executed, its outputs kept in <path-output>/_build/
.jupyter_cache. Jupyter Book does that one notebook at a time, while the chapters each use
one core; this script executes the notebooks that the cache lacks first, one process per
core (jupyter-cache's own "local-parallel" executor, the same execution Jupyter Book would
run: each notebook in its folder, the same timeout and no errors allowed), and the build
that follows finds them all cached. `make book` runs it before `jupyter-book build`.
A notebook that fails here fails the book too: the error is printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_notebooks(toc: Path) -> list[Path]:
    """The .ipynb files that a Jupyter Book table of contents lists, in its order."""
    found: list[Path] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str) or isinstance(node.get("root"), str):
                name = node.get("file") or node.get("root")
                path = (ROOT / name).with_suffix(".ipynb")
                if path.is_file():
                    found.append(path)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(toc.read_text(encoding="utf-8")))
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--toc", default=str(ROOT / "_toc.yml"))
    p.add_argument("--path-output", default=str(ROOT),
                   help="jupyter-book build's --path-output (the cache is <it>/_build/.jupyter_cache)")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per cell (default: _config.yml's execute.timeout)")
    args = p.parse_args(argv)
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    timeout = args.timeout or config.get("execute", {}).get("timeout", 30)
    cache = get_cache(str(Path(args.path_output) / "_build" / ".jupyter_cache"))
    notebooks = toc_notebooks(Path(args.toc))
    for nb in notebooks:
        cache.add_nb_to_project(str(nb))
    result = load_executor("local-parallel", cache=cache).run_and_cache(timeout=timeout)
    failed = result.excepted + result.errored
    print(f"prefill_book_cache: {len(notebooks)} notebooks; executed {len(result.succeeded)}, "
          f"failed {len(failed)} (the others were cached already)")
    for uri in failed:
        record = cache.get_project_record(uri)
        print(f"--- {uri}\n{record.traceback or 'no traceback recorded'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
