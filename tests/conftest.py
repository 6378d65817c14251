"""Shared fixtures for the tests: a headless Chromium page for the static HTML views, and an
offline NSMC environment (nsmc_offline).

The browser is Debian's /usr/bin/chromium (CI installs it), driven by the Python
`playwright` package; `playwright install` is never needed, and nothing is downloaded.
"""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def _chromium():
    """One headless Chromium for the whole session (starting it takes about a second)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
                    "to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_chromium, tmp_path):
    """A fresh page; `browser_page.open_html(fragment)` loads a static view from a file:// URL.

    Uncaught JavaScript errors fail the test that caused them.
    """
    context = _chromium.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    page.set_default_timeout(5000)
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))

    def open_html(fragment, name="view.html"):
        path = tmp_path / name
        path.write_text('<!doctype html>\n<html><head><meta charset="utf-8"></head>\n'
                        f"<body>\n{fragment}\n</body></html>\n", encoding="utf-8")
        page.goto(path.as_uri())
        return page

    page.open_html = open_html
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def without_kiwipiepy(monkeypatch):
    """`import kiwipiepy` fails (as where the morph extra is not installed), and the shared
    Kiwi caches are empty, so the next Kiwi user must import it."""
    import builtins

    from lmlib import kiwi_lm, text

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "kiwipiepy":
            raise ImportError("No module named 'kiwipiepy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(kiwi_lm, "_KIWI", None)
    monkeypatch.setattr(text, "_KIWI", None)
    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.fixture
def nsmc_offline(tmp_path, monkeypatch):
    """No LMLIB_NSMC_DIR, an empty private cache, not in Colab, and no network (a download fails
    the test); returns tmp_path, whose cache/ is the NSMC cache's root."""
    import sys

    from lmlib import data

    monkeypatch.delenv("LMLIB_NSMC_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    def no_network(url, timeout):
        raise AssertionError(f"tried to download {url}")

    monkeypatch.setattr(data, "_open_url", no_network)
    return tmp_path
