"""Write the instructor's table of contents: the book's _toc.yml plus a part with the solutions.

    python scripts/instructor_toc.py _build/instructor_toc.yml   (make book INSTRUCTOR=1 runs it)

The student book is built from _toc.yml alone, and _config.yml builds only the files a table
of contents names (only_build_toc_files), so instructor/solutions.md never reaches it.
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PART = {"caption": "교사용: 연습문제 풀이", "chapters": [{"file": "instructor/solutions"}]}

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: instructor_toc.py OUT.yml")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    toc["parts"].append(PART)
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")
