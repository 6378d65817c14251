"""Small things several test modules share (imported as `helpers`, like toy_corpus)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Markdown or MyST that did not render in a built page: bold marks, a [text](link), a role, a fence
RAW_MARKUP = re.compile(r"\*\*|\]\((?:https?:|\.{0,2}/|#|[\w-]+\.(?:ipynb|md|html))[^)\s]*\)"
                        r"|\{(?:cite|ref|numref|doc|term)[:}]|:::")
RAW_TEX = ["\\(", "\\)", "\\[", "\\]", "\\begin{", "\\frac", "\\mathrm", "$$"]


def local_nsmc_dir() -> Path | None:
    """The course's local NSMC folder (LMLIB_NSMC_DIR, else shared/data/nsmc beside the repo), or None."""
    if os.environ.get("LMLIB_NSMC_DIR"):
        return Path(os.environ["LMLIB_NSMC_DIR"])
    folder = REPO_ROOT.parent / "shared" / "data" / "nsmc"
    return folder if folder.is_dir() else None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(directory: Path):
    """Serve `directory` over HTTP on 127.0.0.1 (file:// would hide what a web server changes); yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
