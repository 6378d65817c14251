"""Views whose JavaScript and CSS are real files of the package, read at run time.

A view is one self-contained HTML fragment: its CSS, its data as JSON, and its script, which
finds its own element by id. The same fragment works in the static book (no kernel, no CDN),
in Jupyter, JupyterLab, VS Code and Colab (HTML outputs run their scripts there). Each view
module keeps its `<name>.js` and `<name>.css` beside it, as bertviz keeps head_view.js
beside head_view.py; the JS file defines one function that takes the view's root element.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json

__all__ = ["asset", "fragment"]


def asset(name: str) -> str:
    """The text of the package file lmlib/views/<name> (a view's .js or .css)."""
    if not isinstance(name, str) or "/" in name or "\\" in name or not name.endswith((".js", ".css")):
        raise ValueError(f"name must be a .js or .css file name of lmlib/views, got {name!r}")
    path = importlib.resources.files(__name__) / name
    if not path.is_file():
        raise FileNotFoundError(f"lmlib/views/{name} is missing: the package is incomplete "
                                f"(reinstall lmlib)")
    return path.read_text(encoding="utf-8")


def fragment(kind: str, data: object, entry: str) -> str:
    """The HTML of view `kind`: kind.css, a div holding `data` as JSON, kind.js, and a call
    of the JS function `entry` on the div. The element id is a hash of kind and data, so a
    stored output is the same on every run."""
    if not isinstance(kind, str) or not kind.isidentifier():
        raise ValueError(f"kind must be a view's module name such as 'quiz', got {kind!r}")
    if not isinstance(entry, str) or not entry.isidentifier():
        raise ValueError(f"entry must be the name of the view's JS function, got {entry!r}")
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    eid = f"lmcb-{kind}-{hashlib.sha1((kind + payload).encode('utf-8')).hexdigest()[:10]}"
    # No '<' inside the script elements: '</script>' in the data would end the tag early.
    safe = payload.replace("<", "\\u003c")
    return (f"<style>{asset(kind + '.css')}</style>"
            f'<div class="lmcb-view lmcb-{kind}" id="{eid}">'
            f'<script type="application/json">{safe}</script>'
            f"<script>{asset(kind + '.js')}\n{entry}(document.getElementById(\"{eid}\"));</script>"
            f"</div>")
