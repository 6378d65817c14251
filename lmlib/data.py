"""Data: the course's small Korean corpus and the Naver Sentiment Movie Corpus (NSMC).

Lecture: a language model is learned from a corpus (말뭉치) — "count the words, then
estimate probabilities" — and is judged on sentences it has not seen, so every corpus
is split into a training part and a held-out test part.

* ``load_corpus()`` reads the book's own everyday-Korean sentences shipped inside the
  package (``lmlib/data/ko_daily.txt``, one sentence per line).
* ``load_nsmc()`` reads NSMC (e9t/nsmc, CC0 1.0): 200,000 movie reviews labelled
  0 (negative) / 1 (positive), used in the classification chapters. The files are not
  shipped; ``nsmc_path()`` finds them on disk, or downloads the official files once
  (checking their SHA-256) into ``~/.cache/lmlib/nsmc``.

Every NSMC file is checked as a whole before it is read (row count and SHA-256 of the
official files and of the course's local split, or the format of a file of your own; see
``verify`` in :func:`nsmc_path`), so a file cut short is an error, never fewer reviews.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import random
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# ---------------------------------------------------------------------------
# the course corpus
# ---------------------------------------------------------------------------


def _corpus_dir() -> Any:
    """Folder holding the package's corpora (a Path-like Traversable)."""
    return importlib.resources.files("lmlib") / "data"


def available_corpora() -> list[str]:
    """Names accepted by :func:`load_corpus` (the ``*.txt`` files in ``lmlib/data``)."""
    folder = _corpus_dir()
    if not folder.is_dir():
        return []
    return sorted(f.name[: -len(".txt")] for f in folder.iterdir()
                  if f.name.endswith(".txt") and f.is_file())


def available_checkpoints() -> list[str]:
    """Names accepted by :func:`checkpoint_dir` (folders in ``lmlib/checkpoints``)."""
    folder = importlib.resources.files("lmlib") / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(f.name for f in folder.iterdir()
                  if f.is_dir() and (f / "config.json").is_file())


def checkpoint_dir(name: str) -> Path:
    """Folder of a small pretrained model shipped with lmlib (made by a scripts/ command
    named in its report.json), e.g. ``checkpoint_dir("gpt_nsmc")``."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    names = available_checkpoints()
    if name not in names:
        raise ValueError(f"name must be one of the packaged checkpoints {names}, got {name!r}")
    return Path(str(importlib.resources.files("lmlib") / "checkpoints" / name))


def load_corpus(name: str = "ko_daily") -> list[str]:
    """Return the sentences of the packaged corpus ``name`` (stripped, empty lines dropped)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    names = available_corpora()
    # Looking the name up in the listing also rules out paths such as "../secret".
    if name not in names:
        raise ValueError(f"name must be one of the packaged corpora {names}, got {name!r}")
    # utf-8-sig: a byte-order mark written by some editors must not end up in sentence 1.
    text = (_corpus_dir() / f"{name}.txt").read_text(encoding="utf-8-sig")
    return [line.strip() for line in text.splitlines() if line.strip()]


def train_test_split(items: Iterable[T], test_fraction: float = 0.1,
                     seed: int = 0) -> tuple[list[T], list[T]]:
    """Shuffle ``items`` with ``random.Random(seed)`` and split off a test part.

    The test part has ``round(len(items) * test_fraction)`` items, but at least one and
    at most ``len(items) - 1``, so neither part is ever empty.
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"items must be a list of items (e.g. sentences), got {type(items).__name__}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)):
        raise TypeError(f"test_fraction must be a float in (0, 1), got {type(test_fraction).__name__}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    items = list(items)
    if len(items) < 2:
        raise ValueError(f"items must hold at least 2 items to split, got {len(items)}")
    random.Random(seed).shuffle(items)  # own generator: the global random state is untouched
    n_test = min(max(round(len(items) * test_fraction), 1), len(items) - 1)
    return items[n_test:], items[:n_test]


def course_split(name: str = "ko_daily", test_fraction: float = 0.1,
                 seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """The book's fixed split of a packaged corpus into eojeol-tokenised train and test sentences."""
    from .text import tokenize

    train, test = train_test_split(load_corpus(name), test_fraction=test_fraction, seed=seed)
    return [tokenize(s) for s in train], [tokenize(s) for s in test]


def load_parallel(name: str = "ko_en") -> list[tuple[str, str]]:
    """Return the (source, target) sentence pairs of the packaged parallel corpus ``name``."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    path = _corpus_dir() / f"{name}.tsv"
    if not path.is_file():
        raise ValueError(f"name must name a packaged parallel corpus (lmlib/data/*.tsv), got {name!r}")
    pairs = []
    for i, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2 or not cols[0].strip() or not cols[1].strip():
            raise ValueError(f"{name}.tsv line {i}: expected 'source<TAB>target', got {line!r}")
        pairs.append((cols[0].strip(), cols[1].strip()))
    return pairs


def parallel_split(name: str = "ko_en", test_fraction: float = 0.1, seed: int = 0
                   ) -> tuple[list[tuple[list[str], list[str]]], list[tuple[list[str], list[str]]]]:
    """The book's fixed held-out split of a parallel corpus, tokenised (eojeol -> english words)."""
    from .text import tokenize

    train, test = train_test_split(load_parallel(name), test_fraction=test_fraction, seed=seed)
    tok = lambda pairs: [(tokenize(k), tokenize(e, level="english")) for k, e in pairs]  # noqa: E731
    return tok(train), tok(test)


@dataclass(frozen=True)
class SenseSentence:
    """A held-out review in which `word` has the sense `sense`; the word's eojeol starts at
    character `start` of `text` (lmlib/data/senses.tsv, chapter 8's L23 test)."""

    id: str
    word: str
    sense: str
    start: int
    text: str


def load_senses() -> list[SenseSentence]:
    """The packaged two-senses set (scripts/make_sense_set.py): NSMC reviews, hand-checked,
    that scripts/pretrain_bert.py leaves out of pretraining."""
    path = _corpus_dir() / "senses.tsv"
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != "id\tword\tsense\tstart\ttext":
        raise ValueError(f"{path}: the header must be 'id<TAB>word<TAB>sense<TAB>start<TAB>text'")
    for i, line in enumerate(lines[1:], start=2):
        cols = line.split("\t")
        if len(cols) != 5 or not cols[3].isdigit():
            raise ValueError(f"{path} line {i}: expected 5 tab-separated columns, start an int")
        row = SenseSentence(cols[0], cols[1], cols[2], int(cols[3]), cols[4])
        if not row.text.startswith(row.word, row.start):
            raise ValueError(f"{path} line {i}: the text has no {row.word!r} at {row.start}")
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# NSMC
# ---------------------------------------------------------------------------

NSMC_SPLITS = ("train", "test")
NSMC_ENV_VAR = "LMLIB_NSMC_DIR"
NSMC_URL = "https://raw.githubusercontent.com/e9t/nsmc/master/ratings_{split}.txt"
# SHA-256 and size of the official files, as recorded by Hugging Face datasets in
# datasets/nsmc/dataset_infos.json ("download_checksums" for these exact URLs); the same
# two digests appear independently in other projects that pin e9t/nsmc (e.g. at commit
# eafdd77e310f399a4d0083a58ade40b55a5a308d for ratings_test.txt).
NSMC_SHA256 = {
    "train": "e03b7d14e9e41be8d464a28057cd25d7396c53e67aa7fd5f7e552c59b0ee2940",
    "test": "8ac9f64052f11dbf6ae0acb5e038f03d90a76f0eda7820cfb3a92d02edfcebda",
}
NSMC_NUM_BYTES = {"train": 14_628_807, "test": 4_893_335}
# Reviews (rows after the header) of the official files: 150K / 50K in e9t/nsmc's README.
NSMC_NUM_ROWS = {"train": 150_000, "test": 50_000}
# The id of each official file's first review, as `head ratings_*.txt` shows it in many
# NSMC tutorials (9976970 "아 더빙.. 진짜 짜증나네요 목소리", 6270596 "굳 ㅋ"). A copy
# cut short still starts with it, which is how a truncated file is recognised.
NSMC_FIRST_ID = {"train": "9976970", "test": "6270596"}
NSMC_HEADER = "id\tdocument\tlabel"
DOWNLOAD_TIMEOUT_S = 30  # per network operation; a dead connection fails instead of hanging


class NSMCFileError(ValueError):
    """An NSMC file that is not what it should be: cut short, altered, or malformed."""


@dataclass(frozen=True, slots=True)
class KnownFile:
    """A data file whose exact contents the course knows, so a copy of it can be checked.

    ``rows`` counts the rows after the header; ``first_id`` is the id of the first row,
    kept by any copy that was cut short (so such a copy is recognised as this file).
    """

    what: str
    sha256: str
    rows: int
    num_bytes: int
    first_id: str


# The course's local NSMC-format split (the folder shared/data/nsmc next to this
# repository, which the Makefile points LMLIB_NSMC_DIR at; see its README.md). Measured
# on 2026-12-02 with `sha256sum`, `wc -l` (minus the header line) and `stat -c %s`, and
# the first id read from line 2 of each file.
COURSE_NSMC_FILES = {
    "ratings_train.txt": KnownFile(
        "the course's local split ratings_train.txt",
        "cebb717643ec87ebf875f824e93ba84f98a3b404d2d6b15b9bfb75fbebe3777f",
        150_000, 14_661_806, "9370331"),
    "ratings_test.txt": KnownFile(
        "the course's local split ratings_test.txt",
        "deb8b2d3972be400b7031a3bbacb89dbb9b61f393159d6d74371c9fccd887dd3",
        50_000, 4_896_734, "294143"),
    "unlabeled_reviews.txt": KnownFile(
        "the course's unlabeled_reviews.txt",
        "9e7505093de67b51553654a9d9d418b8d3a04ceb7d815ad73c307276c8cf46ed",
        649_042, 68_716_833, "10275182"),
}


@dataclass(frozen=True, slots=True)
class Review:
    """One NSMC review: its id, its text (may be ""), and label 0 = negative, 1 = positive."""

    id: str
    document: str
    label: int


def nsmc_cache_dir() -> Path:
    """The user cache folder for NSMC: ``$XDG_CACHE_HOME/lmlib/nsmc`` or ``~/.cache/lmlib/nsmc``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lmlib" / "nsmc"


def _in_colab() -> bool:
    return "google.colab" in sys.modules


def _open_url(url: str, timeout: float):
    """Open ``url`` for reading (a separate function so tests can serve bytes instead)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _download(url: str, dest: Path, sha256: str, total: int | None = None) -> None:
    """Download ``url`` to ``dest`` atomically, verifying its SHA-256.

    The bytes go to a temporary file in the same folder, which is renamed with
    ``os.replace`` only after the checksum matched, so ``dest`` is either absent or
    complete — never half-written, even if the download is interrupted.
    """
    from tqdm.auto import tqdm  # imported here: only a download needs a progress bar

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, _open_url(url, DOWNLOAD_TIMEOUT_S) as response:
            headers = getattr(response, "headers", None)
            length = headers.get("Content-Length") if headers is not None else None
            with tqdm(total=int(length) if length else total, unit="B", unit_scale=True,
                      desc=dest.name) as bar:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != sha256:
            raise ValueError(
                f"checksum mismatch for {url}: expected sha256 {sha256}, got "
                f"{digest.hexdigest()}. The download was incomplete or the file changed "
                f"upstream; nothing was saved to {dest}."
            )
        os.replace(tmp, dest)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
        tmp.unlink(missing_ok=True)
        raise OSError(
            f"NSMC 파일을 내려받지 못했습니다({dest.name}): {err}\n"
            f"인터넷 연결을 확인하고 다시 실행하거나, 파일을 직접 올린 폴더를 알려 주세요. Colab에서는:\n"
            f"  import os; os.environ[\"{NSMC_ENV_VAR}\"] = \"/content/nsmc\"   # ratings_train.txt, ratings_test.txt가 있는 폴더\n"
            f"(could not download {url}: {err}. Check the internet connection, or "
            f"point {NSMC_ENV_VAR} at a folder that already has {dest.name}.)"
        ) from None  # one short message, not a chain of urllib tracebacks
    except BaseException:  # also Ctrl-C: never leave a .part file behind
        tmp.unlink(missing_ok=True)
        raise


def _describe_missing_folder(folder: Path, filename: str) -> str:
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    found = sorted(p.name for p in folder.iterdir())[:10]
    return f"the folder {folder} has no {filename} (it holds: {', '.join(found) or 'nothing'})"


# --- checking a file before reading it ------------------------------------------------
#
# Why: a file cut at a line boundary (an interrupted copy, a full disk) parses without a
# single bad row, so the parser alone would return 30,000 of 50,000 reviews and nobody
# would notice; a figure computed on it would be silently wrong. So every load first
# checks the file as a whole.
#
# The rule (``verify``):
# * True: the file must be one the course knows (the official NSMC file of that name or
#   the course's local split): same row count and same SHA-256.
# * False: only its format is checked: the header, 3 (or 4) tab-separated columns and a
#   valid label (rating) on every row, and at least one row. For your own files.
# * None (the default): a file in the download cache, or one that *resembles* a known
#   file (it starts with the same first review, or has the same number of rows or bytes),
#   is checked as with True; any other file as with False. A file cut short always keeps
#   its first review and a file with one altered byte keeps its size, so a damaged copy of
#   a known file never passes as "your own file", while a student's own file, or the tiny
#   files the tests write, loads without a flag (the training scripts, run as subprocesses
#   by torchrun, have no flag to pass). A header-only file fails under every rule.
#
# Hashing (with the row count, in one pass) took 0.11 s for the 68 MB unlabeled_reviews.txt
# and 0.02 s for the 15 MB ratings_train.txt on the 2-core build machine, against 2.1 s to
# parse the former; it is done once per file per process: the results are kept by (path,
# inode, size, modification time), so a file changed in between is checked again.


@dataclass(frozen=True, slots=True)
class _Facts:
    sha256: str
    rows: int          # rows after the header; a last line without "\n" counts
    num_bytes: int
    first_id: str | None


_FACTS: dict[tuple, _Facts] = {}
_ACCEPTED: set[tuple] = set()


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)


def _file_facts(path: Path, key: tuple) -> _Facts:
    """SHA-256, row count and first id of ``path``: one pass over its bytes, once per key."""
    facts = _FACTS.get(key)
    if facts is not None:
        return facts
    digest = hashlib.sha256()
    newlines = size = 0
    last = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
        f.seek(0)
        f.readline()                    # the header
        first = f.readline(1 << 16)     # the first row (its id is all we need)
    lines = newlines + (1 if size and last != b"\n" else 0)
    first_id = first.split(b"\t", 1)[0].decode("utf-8", "replace").strip() if first else None
    facts = _Facts(digest.hexdigest(), max(lines - 1, 0), size, first_id or None)
    _FACTS[key] = facts
    return facts


def _forget(path: Path) -> None:
    """Drop what was learned about ``path`` (before it is deleted or replaced)."""
    name = str(path.resolve())
    for key in [k for k in _FACTS if k[0] == name]:
        del _FACTS[key]
    for item in [a for a in _ACCEPTED if a[0][0] == name]:
        _ACCEPTED.discard(item)


def _known_files(kind: str, in_cache: bool) -> list[KnownFile]:
    """The files a ``kind`` ("train", "test" or "unlabeled") file may be a copy of.

    Built at each call from the module's tables, so a test can replace an entry."""
    if kind == "unlabeled":
        return [COURSE_NSMC_FILES[UNLABELED_FILENAME]]
    official = KnownFile(f"the official NSMC ratings_{kind}.txt (e9t/nsmc)", NSMC_SHA256[kind],
                         NSMC_NUM_ROWS[kind], NSMC_NUM_BYTES[kind], NSMC_FIRST_ID[kind])
    if in_cache:  # only downloads land in the cache, and only the official file is downloaded
        return [official]
    return [official, COURSE_NSMC_FILES[f"ratings_{kind}.txt"]]


def _resembles(facts: _Facts, known: KnownFile) -> bool:
    return (facts.first_id == known.first_id or facts.rows == known.rows
            or facts.num_bytes == known.num_bytes)


def _how_to_fix(path: Path, kind: str, in_cache: bool) -> str:
    if in_cache:
        return (f"To fix it, delete {path} and download it again: "
                f"load_nsmc({kind!r}, download=True) (or nsmc_path) deletes a damaged cached "
                f"file and fetches it again.")
    course = "shared/data/nsmc next to the repository (see its README.md)"
    if kind == "unlabeled":
        return (f"To fix it, copy {path.name} again from the course's data folder {course}. "
                f"If it is your own file in this format, pass verify=False to check only its "
                f"format.")
    return (f"To fix it, copy {path.name} again: the course's local split from the course's "
            f"data folder {course}; the official file by deleting {path} and downloading it "
            f"(nsmc_path({kind!r}, download=True) with neither data_dir nor {NSMC_ENV_VAR} "
            f"set). If it is your own NSMC-format file, pass verify=False to check only its "
            f"format.")


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _mismatch_message(path: Path, facts: _Facts, known: list[KnownFile], kind: str,
                      in_cache: bool, verify: bool | None) -> str:
    """Say what ``path`` should have been, what it is, why it failed, and how to fix it."""
    resembled = (next((k for k in known if facts.first_id == k.first_id), None)
                 or next((k for k in known if facts.rows == k.rows), None)
                 or next((k for k in known if facts.num_bytes == k.num_bytes), None))
    target = resembled or (known[0] if len(known) == 1 else None)
    found = f"found {_rows(facts.rows)}, sha256 {facts.sha256}"
    if target is None:
        expected = "one of: " + "; ".join(f"{k.what} with {_rows(k.rows)}, sha256 {k.sha256}"
                                           for k in known)
        why = []
    else:
        expected = f"{target.what} with {_rows(target.rows)}, sha256 {target.sha256}"
        if facts.rows < target.rows:
            why = [f"{target.rows - facts.rows:,} of its {_rows(target.rows)} are missing "
                   f"(was the file cut short, e.g. by an interrupted download or copy?)"]
        elif facts.rows > target.rows:
            why = [f"It has {_rows(facts.rows - target.rows)} too many"]
        else:
            why = ["It has the right number of rows but different bytes: it was altered or "
                   "damaged"]
    if in_cache:
        why.append("The download cache holds only the official file")
    elif verify is None and resembled is not None:
        same = ("first review id" if facts.first_id == resembled.first_id
                else "number of rows" if facts.rows == resembled.rows else "size in bytes")
        why.append(f"It is checked as that file because it has the same {same}")
    elif verify is True:
        why.append("verify=True accepts only the known files")
    because = "".join(f"{w}. " for w in why)
    return (f"{path} is not an intact copy: expected {expected}; {found}. {because}"
            f"{_how_to_fix(path, kind, in_cache)}")


def _check_file(path: Path, kind: str, verify: bool | None, in_cache: bool = False) -> None:
    """Raise :class:`NSMCFileError` unless ``path`` passes ``verify`` (see the rule above)."""
    key = _stat_key(path)
    facts = _file_facts(path, key)
    known = _known_files(kind, in_cache)
    strict = (in_cache or any(_resembles(facts, k) for k in known)) if verify is None else verify
    mode = "known" if strict else "format"
    if (key, kind, mode) in _ACCEPTED:
        return
    if strict:
        # the hash alone decides (the official row counts come from the NSMC documentation; the
        # SHA-256 is what the download has always been checked against)
        if not any(facts.sha256 == k.sha256 for k in known):
            raise NSMCFileError(_mismatch_message(path, facts, known, kind, in_cache, verify))
    else:
        # The whole file, not just the first `limit` rows: a bad row anywhere means the file
        # is not what its owner thinks it is.
        rows = _read_unlabeled(path, None) if kind == "unlabeled" else _read_nsmc(path, None)
        if not rows:
            counts = " or ".join(_rows(n) for n in sorted({k.rows for k in known}))
            raise NSMCFileError(
                f"{path} has the header but no rows: expected at least 1 review (the known "
                f"{path.name} files have {counts}). {_how_to_fix(path, kind, in_cache)}")
    _ACCEPTED.add((key, kind, mode))


def _check_verify(verify: object) -> None:
    if verify is not None and not isinstance(verify, bool):
        raise TypeError(f"verify must be True, False or None, got {type(verify).__name__}")


def nsmc_path(split: str = "train", data_dir: str | os.PathLike | None = None,
              download: bool | None = None, verify: bool | None = None) -> Path:
    """Find ``ratings_{split}.txt``: data_dir, then $LMLIB_NSMC_DIR, then the cache, then download.

    ``download=None`` downloads only in Google Colab; ``True`` allows it anywhere;
    ``False`` never touches the network. A folder given explicitly (argument or
    environment variable) that lacks the file is an error, not a reason to look elsewhere.

    The file found is checked before its path is returned (an :class:`NSMCFileError`
    names the file, what was expected and how to fix it): ``verify=True`` accepts only the
    official file or the course's local split (row count and SHA-256); ``False`` checks
    only the format; ``None`` checks a file as a known one when it is in the cache or
    resembles a known file, otherwise only its format. A damaged file in the cache is
    deleted and downloaded again when downloading is allowed.
    """
    if split not in NSMC_SPLITS:
        raise ValueError(f"split must be one of {NSMC_SPLITS}, got {split!r}")
    if download is not None and not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None, got {type(download).__name__}")
    _check_verify(verify)
    filename = f"ratings_{split}.txt"

    def checked(folder: str | os.PathLike, given: str) -> Path:
        """The file in a folder the caller named (argument or variable): it must be there."""
        file = Path(folder).expanduser() / filename
        if not file.is_file():
            raise FileNotFoundError(
                f"{given}, but {_describe_missing_folder(file.parent, filename)}.")
        _check_file(file, split, verify)
        return file

    # (a) the argument
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a str or path, got {type(data_dir).__name__}")
        return checked(data_dir, f"data_dir={str(data_dir)!r} was given")

    # (b) the environment variable
    env_dir = os.environ.get(NSMC_ENV_VAR)
    if env_dir:
        return checked(env_dir, f"{NSMC_ENV_VAR}={env_dir!r} is set")

    # (c) the cache, filled by an earlier download; a damaged file there is fetched again
    # when downloading is allowed (it must never be reused forever)
    may_download = bool(download) or (download is None and _in_colab())
    why_no_download = ("download=False was given" if download is False
                       else "downloading is automatic only in Google Colab")
    cached = nsmc_cache_dir() / filename
    if cached.is_file():
        try:
            _check_file(cached, split, verify, in_cache=True)
            return cached
        except NSMCFileError as err:
            if not may_download:
                raise NSMCFileError(f"{err} (It was not downloaded again: {why_no_download}.)"
                                    ) from None
            warnings.warn(f"{err} Deleting it and downloading it again.", stacklevel=2)
            _forget(cached)
            cached.unlink(missing_ok=True)

    # (d) download: asked for, or by default in Colab, where there is always internet
    if may_download:
        _download(NSMC_URL.format(split=split), cached, NSMC_SHA256[split], NSMC_NUM_BYTES[split])
        _check_file(cached, split, verify, in_cache=True)
        return cached

    # (e) give up, saying where we looked and how to fix it
    raise FileNotFoundError(
        f"NSMC file {filename} not found. Looked in:\n"
        f"  - the data_dir argument: not given\n"
        f"  - the environment variable {NSMC_ENV_VAR}: not set\n"
        f"  - the cache: {cached} (not there)\n"
        f"and did not download it ({why_no_download}). To fix it, do one of:\n"
        f"  - set {NSMC_ENV_VAR} to a folder holding ratings_train.txt and ratings_test.txt\n"
        f"  - pass data_dir='/path/to/that/folder'\n"
        f"  - with internet, pass download=True to fetch the official file into the cache"
    )


def _read_nsmc(path: Path, limit: int | None) -> list[Review]:
    """Parse an NSMC file; any malformed row is an error naming the file and line."""
    reviews: list[Review] = []
    # newline="\n": split rows only at "\n", so a stray "\r" or U+2028 inside a review
    # cannot cut it in two (str.splitlines would).
    with open(path, encoding="utf-8", newline="\n") as f:
        header = f.readline().rstrip("\r\n").lstrip("\ufeff")
        if header != NSMC_HEADER:
            raise NSMCFileError(
                f"{path}, line 1: expected the header {NSMC_HEADER!r}, got {header[:80]!r}"
            )
        for lineno, line in enumerate(f, start=2):
            if limit is not None and len(reviews) >= limit:
                break
            if line.endswith("\n"):
                line = line[:-1]
            if line.endswith("\r"):
                line = line[:-1]
            fields = line.split("\t")
            if len(fields) != 3:
                raise NSMCFileError(
                    f"{path}, line {lineno}: expected 3 tab-separated columns "
                    f"(id, document, label), got {len(fields)}: {line[:80]!r}"
                )
            review_id, document, label = fields
            if label not in ("0", "1"):
                raise NSMCFileError(f"{path}, line {lineno}: label must be 0 or 1, got {label!r}")
            if not review_id:
                raise NSMCFileError(f"{path}, line {lineno}: the id column is empty")
            reviews.append(Review(review_id, document, int(label)))
    return reviews


def load_nsmc(split: str = "train", data_dir: str | os.PathLike | None = None,
              download: bool | None = None, limit: int | None = None,
              verify: bool | None = None) -> list[Review]:
    """Load NSMC reviews of ``split`` ("train" or "test"); ``limit`` keeps the first rows.

    A few official reviews are empty; they are kept with ``document == ""`` so that
    row counts match the files (filter them yourself if a model cannot take them).
    See :func:`nsmc_path` for where the file is looked for and how ``verify`` checks it:
    the whole file is checked even with a ``limit``, so a damaged file is never read.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise TypeError(f"limit must be an int >= 0 or None, got {type(limit).__name__}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be an int >= 0 or None, got {limit}")
    return _read_nsmc(nsmc_path(split, data_dir=data_dir, download=download, verify=verify),
                      limit)


# ---------------------------------------------------------------------------
# unlabeled reviews (pretraining text)
# ---------------------------------------------------------------------------

UNLABELED_FILENAME = "unlabeled_reviews.txt"
UNLABELED_HEADER = "id\tmovie_id\trating\tdocument"
_RATINGS = frozenset(str(r) for r in range(1, 11))


@dataclass(frozen=True, slots=True)
class UnlabeledReview:
    """One crawled review for pretraining: its id, movie id, rating 1-10 and text."""

    id: str
    movie_id: str
    rating: int
    document: str


def _read_unlabeled(path: Path, limit: int | None) -> list[UnlabeledReview]:
    """Parse ``unlabeled_reviews.txt``; any malformed row is an error naming the file and line."""
    rows: list[UnlabeledReview] = []
    with open(path, encoding="utf-8", newline="\n") as f:
        header = f.readline().rstrip("\r\n").lstrip("\ufeff")
        if header != UNLABELED_HEADER:
            raise NSMCFileError(f"{path}, line 1: expected the header {UNLABELED_HEADER!r}, "
                                f"got {header[:80]!r}")
        for lineno, line in enumerate(f, start=2):
            if limit is not None and len(rows) >= limit:
                break
            fields = line.rstrip("\n").rstrip("\r").split("\t")
            if len(fields) != 4:
                raise NSMCFileError(f"{path}, line {lineno}: expected 4 tab-separated columns "
                                    f"(id, movie_id, rating, document), got {len(fields)}: "
                                    f"{line[:80]!r}")
            review_id, movie_id, rating, document = fields
            if not review_id:
                raise NSMCFileError(f"{path}, line {lineno}: the id column is empty")
            if rating not in _RATINGS:
                raise NSMCFileError(f"{path}, line {lineno}: rating must be 1-10, got {rating!r}")
            rows.append(UnlabeledReview(review_id, movie_id, int(rating), document))
    return rows


def load_unlabeled_reviews(data_dir: str | os.PathLike | None = None,
                           limit: int | None = None,
                           verify: bool | None = None) -> list[UnlabeledReview]:
    """Read ``unlabeled_reviews.txt`` (pretraining text only) from data_dir or $LMLIB_NSMC_DIR.

    The file holds every crawled review except those whose id or text is in the NSMC test
    split (see the data folder's README), so a model pretrained on it has not seen the
    local test split. It is not published, so it is never downloaded: the folder must be
    given. Every row must have 4 tab-separated columns and a rating 1-10; a malformed row
    is an error naming the file and line. The whole file is checked first, as
    :func:`nsmc_path` explains for ``verify``: ``True`` accepts only the course's file
    (649,042 rows and its SHA-256), ``False`` checks only the format, ``None`` checks a file
    that resembles the course's file as that file and any other only for its format.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be an int >= 0 or None, got {limit!r}")
    _check_verify(verify)
    if data_dir is None:
        env_dir = os.environ.get(NSMC_ENV_VAR)
        if not env_dir:
            raise FileNotFoundError(
                f"{UNLABELED_FILENAME} is not downloadable; pass data_dir=... or set "
                f"{NSMC_ENV_VAR} to the folder that holds it")
        data_dir, source = env_dir, f"{NSMC_ENV_VAR}={env_dir!r}"
    elif not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a str or path, got {type(data_dir).__name__}")
    else:
        source = f"data_dir={str(data_dir)!r}"
    folder = Path(data_dir).expanduser()
    path = folder / UNLABELED_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"{source} was given, but "
                                f"{_describe_missing_folder(folder, UNLABELED_FILENAME)}.")
    _check_file(path, "unlabeled", verify)
    return _read_unlabeled(path, limit)


# ---------------------------------------------------------------------------
# which reviews a shipped model saw (Colab-clean evaluation)
# ---------------------------------------------------------------------------

TRAINED_IDS_FILE = "trained_ids.npz"


def save_trained_ids(folder: str | os.PathLike, ids: Iterable[str]) -> int:
    """Record in ``folder/trained_ids.npz`` the review ids a model was trained on.

    The official NSMC files that Colab downloads were sampled from the same crawl as the
    local training text, so their test reviews may include reviews a shipped model saw.
    The ids (NSMC ids are decimal integers) are stored sorted and delta-encoded
    (649,042 ids take about 0.65 MB). Returns the number of distinct ids written.
    """
    import numpy as np

    if isinstance(ids, (str, bytes)):
        raise TypeError("ids must be an iterable of review-id strings, not a single "
                        f"{type(ids).__name__}")
    values = []
    for i in ids:
        if not isinstance(i, str) or not i.isascii() or not i.isdigit():
            raise ValueError(f"ids must be decimal review-id strings such as '9976970', "
                             f"got {i!r}")
        values.append(int(i))
    if not values:
        raise ValueError("ids is empty: a trained model saw at least one review")
    arr = np.unique(np.asarray(values, dtype=np.int64))
    if arr[-1] >= 2**32:
        raise ValueError(f"review ids must be below 2**32, got {int(arr[-1])}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / TRAINED_IDS_FILE,
                        delta=np.diff(arr, prepend=0).astype(np.uint32))
    return int(arr.size)


def load_trained_ids(checkpoint: str | os.PathLike) -> frozenset[str]:
    """The review ids recorded by :func:`save_trained_ids` for a checkpoint (a packaged
    name such as ``"gpt_nsmc"`` or a folder)."""
    import numpy as np

    if isinstance(checkpoint, str) and checkpoint in available_checkpoints():
        folder = checkpoint_dir(checkpoint)
    elif isinstance(checkpoint, (str, os.PathLike)):
        folder = Path(checkpoint)
    else:
        raise TypeError(f"checkpoint must be a packaged checkpoint name or a folder, "
                        f"got {type(checkpoint).__name__}")
    path = folder / TRAINED_IDS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: checkpoint must be a packaged name "
                                f"{available_checkpoints()} or a folder written by a "
                                f"scripts/ training command (which records {TRAINED_IDS_FILE})")
    with np.load(path, allow_pickle=False) as f:
        if "delta" not in f.files:
            raise ValueError(f"{path}: expected an array named 'delta', got {f.files}")
        ids = np.cumsum(f["delta"].astype(np.int64))
    return frozenset(str(i) for i in ids.tolist())


def drop_trained_reviews(reviews: Iterable[Review], *checkpoints: str | os.PathLike
                         ) -> list[Review]:
    """``reviews`` without those any of ``checkpoints`` was trained on (see
    :func:`save_trained_ids`). On the local split nothing is dropped; on the official
    files Colab downloads, test reviews that were in the training crawl are."""
    if not checkpoints:
        raise ValueError("name at least one checkpoint whose training reviews to drop")
    seen: set[str] = set()
    for c in checkpoints:
        seen |= load_trained_ids(c)
    out = []
    for r in reviews:
        if not isinstance(r, Review):
            raise TypeError(f"reviews must hold lmlib.data.Review items (from load_nsmc), "
                            f"got {type(r).__name__}")
        if r.id not in seen:
            out.append(r)
    return out
