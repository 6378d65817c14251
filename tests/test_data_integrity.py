"""NSMC files prove themselves: a file cut short, altered or malformed is an error.

A file cut at a line boundary parses without one bad row, so lmlib.data checks each file
as a whole (row count, SHA-256 of the known files; the format of any other file) before
reading it. These tests build small files, declare one of them "known" by replacing an
entry of lmlib.data's tables, and damage copies of it. Nothing here touches the network:
a download is served from memory by replacing ``lmlib.data._open_url``.
"""

import hashlib
import io
import os
import sys
import types
from pathlib import Path

import pytest

from helpers import local_nsmc_dir
from lmlib import data
from lmlib.data import KnownFile, NSMCFileError, load_nsmc, load_unlabeled_reviews, nsmc_path

REPO_ROOT = Path(__file__).resolve().parents[1]
N_ROWS = 20


def nsmc_text(n: int = N_ROWS, first_id: int = 5000) -> str:
    rows = [f"{first_id + i}\t리뷰 {i}번 {'좋아요' if i % 2 else 'bad'}\t{i % 2}" for i in range(n)]
    return "id\tdocument\tlabel\n" + "\n".join(rows) + "\n"


def unlabeled_text(n: int = N_ROWS, first_id: int = 7000) -> str:
    rows = [f"{first_id + i}\t{i % 3}\t{i % 10 + 1}\t리뷰 {i}" for i in range(n)]
    return "id\tmovie_id\trating\tdocument\n" + "\n".join(rows) + "\n"


GOOD = nsmc_text()
GOOD_ROWS = GOOD.splitlines(keepends=True)   # header + N_ROWS rows


def known(text: str, what: str) -> KnownFile:
    raw = text.encode("utf-8")
    first_id = text.split("\n")[1].split("\t")[0]
    return KnownFile(what, hashlib.sha256(raw).hexdigest(), raw.count(b"\n") - 1, len(raw),
                     first_id)


@pytest.fixture
def clean_env(nsmc_offline, monkeypatch):
    """No LMLIB_NSMC_DIR, an empty private cache, not in Colab, and no network (conftest's
    nsmc_offline); GOOD (and unlabeled_text()) stand for the course's local split of the test file."""
    tmp_path = nsmc_offline
    monkeypatch.setitem(data.COURSE_NSMC_FILES, "ratings_test.txt",
                        known(GOOD, "the course's local split ratings_test.txt"))
    monkeypatch.setitem(data.COURSE_NSMC_FILES, "unlabeled_reviews.txt",
                        known(unlabeled_text(), "the course's unlabeled_reviews.txt"))
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def alter_one_byte(text: str) -> str:
    """``text`` with one byte of row 11's review changed ("bad" -> "bed"): same size and rows."""
    lines = text.splitlines(keepends=True)
    assert "bad" in lines[11]
    lines[11] = lines[11].replace("bad", "bed")
    return "".join(lines)


# --- damaged copies of a known file in a folder (data_dir or LMLIB_NSMC_DIR) -----------

EXPECTED = f"the course's local split ratings_test.txt with {N_ROWS:,} rows, sha256 "

DAMAGED = [
    # (name, file text, verify, what the message must say besides the path)
    ("truncated at a line boundary", "".join(GOOD_ROWS[:13]), None,
     [EXPECTED, "found 12 rows", f"8 of its {N_ROWS} rows are missing", "cut short",
      "copy ratings_test.txt again"]),
    ("truncated, verify=True", "".join(GOOD_ROWS[:2]), True,
     [EXPECTED, "found 1 row,", "rows are missing"]),
    ("truncated mid-row", "".join(GOOD_ROWS[:13]) + GOOD_ROWS[13][:6], None,
     [EXPECTED, "found 13 rows", "rows are missing"]),
    ("header only", GOOD_ROWS[0], None,
     ["has the header but no rows", "expected at least 1 review", f"{N_ROWS:,}"]),
    ("header only, verify=True", GOOD_ROWS[0], True,
     ["expected one of", "found 0 rows", f"{N_ROWS:,} rows"]),
    ("header only, verify=False", GOOD_ROWS[0], False,
     ["has the header but no rows", "expected at least 1 review"]),
    ("one altered byte", alter_one_byte(GOOD), None,
     [EXPECTED, f"found {N_ROWS} rows", "right number of rows but different bytes",
      "same first review id"]),
    ("own file with the known file's row count", nsmc_text(first_id=9000), None,
     [EXPECTED, "same number of rows", "verify=False"]),
    ("wrong column count", GOOD.replace("리뷰 3번", "리뷰\t3번"), False,
     ["line 5: expected 3 tab-separated columns (id, document, label), got 4"]),
    ("wrong column count, default rule", GOOD.replace("리뷰 3번", "리뷰\t3번"), None,
     [EXPECTED, "different bytes"]),
    ("bad label", GOOD.replace("\t1\n", "\t5\n", 1), False, ["line 3: label must be 0 or 1, got '5'"]),
    ("no header", "".join(GOOD_ROWS[1:]), False, ["line 1: expected the header"]),
]


@pytest.mark.parametrize("name, text, verify, says", DAMAGED, ids=[d[0] for d in DAMAGED])
def test_a_damaged_file_is_an_error_naming_it_and_the_expectation(clean_env, name, text,
                                                                    verify, says):
    path = write(clean_env / "d" / "ratings_test.txt", text)
    for call in (lambda: load_nsmc("test", data_dir=clean_env / "d", verify=verify),
                 lambda: load_nsmc("test", data_dir=clean_env / "d", verify=verify, limit=1),
                 lambda: nsmc_path("test", data_dir=clean_env / "d", verify=verify)):
        with pytest.raises(NSMCFileError) as info:
            call()
        message = str(info.value)
        assert str(path) in message
        for fragment in says:
            assert fragment in message, (fragment, message)
    assert isinstance(info.value, ValueError)  # callers catching ValueError still catch it


def test_a_truncated_file_in_the_env_folder_is_an_error(clean_env, monkeypatch):
    path = write(clean_env / "env" / "ratings_test.txt", "".join(GOOD_ROWS[:11]))
    monkeypatch.setenv("LMLIB_NSMC_DIR", str(clean_env / "env"))
    with pytest.raises(NSMCFileError, match=f"10 of its {N_ROWS} rows are missing") as info:
        load_nsmc("test")
    assert str(path) in str(info.value)


def test_a_truncated_copy_of_the_official_file_is_recognised_by_its_first_review(clean_env):
    # Starts like e9t/nsmc's ratings_train.txt (its first id), 3 rows instead of 150,000.
    text = "id\tdocument\tlabel\n9976970\t아 더빙.. 진짜 짜증나네요 목소리\t0\n1\t좋다\t1\n2\t싫다\t0\n"
    path = write(clean_env / "d" / "ratings_train.txt", text)
    with pytest.raises(NSMCFileError) as info:
        load_nsmc("train", data_dir=clean_env / "d")
    message = str(info.value)
    assert str(path) in message
    assert "the official NSMC ratings_train.txt (e9t/nsmc) with 150,000 rows" in message
    assert data.NSMC_SHA256["train"] in message and "149,997 of its 150,000 rows are missing" in message


def test_the_intact_known_file_loads(clean_env):
    write(clean_env / "d" / "ratings_test.txt", GOOD)
    for verify in (None, True, False):
        assert len(load_nsmc("test", data_dir=clean_env / "d", verify=verify)) == N_ROWS


def test_a_file_changed_after_a_good_load_is_checked_again(clean_env):
    path = write(clean_env / "d" / "ratings_test.txt", GOOD)
    assert len(load_nsmc("test", data_dir=clean_env / "d")) == N_ROWS
    stat = path.stat()
    write(path, alter_one_byte(GOOD))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(NSMCFileError, match="different bytes"):
        load_nsmc("test", data_dir=clean_env / "d")


def test_a_file_is_hashed_once_per_process(clean_env, monkeypatch):
    write(clean_env / "d" / "ratings_test.txt", GOOD)
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(data.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    for _ in range(3):
        load_nsmc("test", data_dir=clean_env / "d", limit=2)
    assert len(calls) == 1


# --- files that are neither official nor the course's: the verify rule ------------------

OWN = nsmc_text(n=7, first_id=100)


def test_an_own_file_loads_by_default_and_with_verify_false(clean_env):
    write(clean_env / "mine" / "ratings_test.txt", OWN)
    assert len(load_nsmc("test", data_dir=clean_env / "mine")) == 7
    assert len(load_nsmc("test", data_dir=clean_env / "mine", verify=False)) == 7


def test_an_own_file_with_verify_true_is_a_clear_error(clean_env):
    path = write(clean_env / "mine" / "ratings_test.txt", OWN)
    with pytest.raises(NSMCFileError) as info:
        load_nsmc("test", data_dir=clean_env / "mine", verify=True)
    message = str(info.value)
    assert str(path) in message and "verify=True accepts only the known files" in message
    assert "expected one of: the official NSMC ratings_test.txt (e9t/nsmc) with 50,000 rows" in message
    assert EXPECTED in message and "found 7 rows" in message and "verify=False" in message


def test_an_own_file_is_checked_to_its_last_row_even_with_a_limit(clean_env):
    path = write(clean_env / "mine" / "ratings_test.txt", OWN + "999\t탭이\t두 개\t1\n")
    with pytest.raises(NSMCFileError, match="line 9: expected 3 tab-separated columns") as info:
        load_nsmc("test", data_dir=clean_env / "mine", limit=1)
    assert str(path) in str(info.value)


def test_verify_must_be_a_bool_or_none(clean_env):
    with pytest.raises(TypeError, match="verify must be True, False or None, got str"):
        nsmc_path("test", verify="yes")
    with pytest.raises(TypeError, match="verify must be True, False or None, got int"):
        load_unlabeled_reviews(clean_env, verify=1)


# --- unlabeled_reviews.txt --------------------------------------------------------------

UNLABELED = unlabeled_text()
UNLABELED_ROWS = UNLABELED.splitlines(keepends=True)


@pytest.mark.parametrize("text, verify, says", [
    ("".join(UNLABELED_ROWS[:6]), None,
     [f"the course's unlabeled_reviews.txt with {N_ROWS:,} rows", "15 of its 20 rows are missing",
      "copy unlabeled_reviews.txt again"]),
    (UNLABELED_ROWS[0], None, ["has the header but no rows"]),
    (UNLABELED.replace("리뷰 4", "리뷰 5"), None, ["different bytes"]),
    (UNLABELED.replace("\t5\t리뷰 4", "\t5\t리뷰\t4"), False, ["line 6: expected 4 tab-separated columns"]),
    (unlabeled_text(3, first_id=100), True, ["verify=True accepts only the known files",
                                             "found 3 rows"]),
], ids=["truncated", "header only", "altered", "wrong column count", "unknown, verify=True"])
def test_a_damaged_unlabeled_file_is_an_error(clean_env, text, verify, says):
    path = write(clean_env / "d" / "unlabeled_reviews.txt", text)
    with pytest.raises(NSMCFileError) as info:
        load_unlabeled_reviews(clean_env / "d", limit=2, verify=verify)
    assert str(path) in str(info.value)
    for fragment in says:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_the_known_and_an_own_unlabeled_file_load(clean_env):
    write(clean_env / "d" / "unlabeled_reviews.txt", UNLABELED)
    assert len(load_unlabeled_reviews(clean_env / "d", verify=True)) == N_ROWS
    write(clean_env / "own" / "unlabeled_reviews.txt", unlabeled_text(3, first_id=100))
    assert len(load_unlabeled_reviews(clean_env / "own")) == 3
    # The first 3 rows of the known file are that file cut short, not a file of one's own.
    write(clean_env / "cut" / "unlabeled_reviews.txt", unlabeled_text(3))
    with pytest.raises(NSMCFileError, match="17 of its 20 rows are missing"):
        load_unlabeled_reviews(clean_env / "cut")


# --- the download cache: a damaged file is fetched again when downloading is allowed ----

URL_TEST = "https://raw.githubusercontent.com/e9t/nsmc/master/ratings_test.txt"


def pretend_official(monkeypatch, text: str) -> list[str]:
    """Make ``text`` the official ratings_test.txt: its hash, rows, size and first id go into
    lmlib.data's tables and the URL opener serves its bytes. Returns the URLs asked."""
    k = known(text, "official")
    monkeypatch.setitem(data.NSMC_SHA256, "test", k.sha256)
    monkeypatch.setitem(data.NSMC_NUM_ROWS, "test", k.rows)
    monkeypatch.setitem(data.NSMC_NUM_BYTES, "test", k.num_bytes)
    monkeypatch.setitem(data.NSMC_FIRST_ID, "test", k.first_id)
    asked = []

    def fake_open(url, timeout):
        asked.append(url)
        return io.BytesIO(text.encode("utf-8"))

    monkeypatch.setattr(data, "_open_url", fake_open)
    return asked


CACHE_DAMAGE = [
    ("truncated", "".join(GOOD_ROWS[:13])),
    ("header only", GOOD_ROWS[0]),
    ("one altered byte", alter_one_byte(GOOD)),
    ("garbage", "not an NSMC file at all\n"),
]


@pytest.mark.parametrize("how", ["download=True", "Colab"])
@pytest.mark.parametrize("name, damaged", CACHE_DAMAGE, ids=[c[0] for c in CACHE_DAMAGE])
def test_a_damaged_cache_file_is_deleted_and_fetched_again(clean_env, monkeypatch, name,
                                                           damaged, how):
    cached = write(clean_env / "cache" / "lmlib" / "nsmc" / "ratings_test.txt", damaged)
    asked = pretend_official(monkeypatch, GOOD)
    if how == "Colab":
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    download = True if how == "download=True" else None
    with pytest.warns(UserWarning, match="Deleting it and downloading it again") as caught:
        reviews = load_nsmc("test", download=download)
    assert str(cached) in str(caught[0].message)
    assert asked == [URL_TEST] and len(reviews) == N_ROWS
    assert cached.read_text(encoding="utf-8") == GOOD
    assert sorted(os.listdir(cached.parent)) == ["ratings_test.txt"]
    load_nsmc("test", download=download)  # now intact: read from the cache
    assert asked == [URL_TEST]


@pytest.mark.parametrize("download, why", [(False, "download=False was given"),
                                           (None, "downloading is automatic only in Google Colab")])
def test_a_damaged_cache_file_without_download_is_an_error_naming_it(clean_env, monkeypatch,
                                                                     download, why):
    cached = write(clean_env / "cache" / "lmlib" / "nsmc" / "ratings_test.txt",
                   "".join(GOOD_ROWS[:13]))
    k = known(GOOD, "official")
    monkeypatch.setitem(data.NSMC_SHA256, "test", k.sha256)
    monkeypatch.setitem(data.NSMC_NUM_ROWS, "test", k.rows)
    with pytest.raises(NSMCFileError) as info:  # clean_env's opener fails the test if called
        load_nsmc("test", download=download)
    message = str(info.value)
    assert str(cached) in message
    assert f"the official NSMC ratings_test.txt (e9t/nsmc) with {N_ROWS} rows, sha256 {k.sha256}" in message
    assert "found 12 rows" in message and "8 of its 20 rows are missing" in message
    assert f"delete {cached}" in message and "download=True" in message and why in message
    assert cached.is_file()  # nothing is deleted when it cannot be fetched again


def test_a_cache_file_that_fails_again_after_the_download_is_not_kept(clean_env, monkeypatch):
    write(clean_env / "cache" / "lmlib" / "nsmc" / "ratings_test.txt", "".join(GOOD_ROWS[:13]))
    pretend_official(monkeypatch, GOOD)
    monkeypatch.setattr(data, "_open_url", lambda url, timeout: io.BytesIO(b"changed upstream\n"))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="checksum mismatch"):
        load_nsmc("test", download=True)
    assert os.listdir(clean_env / "cache" / "lmlib" / "nsmc") == []


def test_an_own_file_in_the_cache_is_not_accepted(clean_env):
    cached = write(clean_env / "cache" / "lmlib" / "nsmc" / "ratings_test.txt", OWN)
    with pytest.raises(NSMCFileError, match="official NSMC ratings_test.txt") as info:
        load_nsmc("test", download=False)
    assert str(cached) in str(info.value)
    assert len(load_nsmc("test", download=False, verify=False)) == 7  # asked for explicitly


# --- the course's real files (skipped where they are absent) ---------------------------



@pytest.mark.skipif(local_nsmc_dir() is None, reason="no local NSMC copy (LMLIB_NSMC_DIR unset)")
def test_the_course_files_are_the_recorded_ones():
    folder = local_nsmc_dir()
    for split in ("train", "test"):
        path = nsmc_path(split, data_dir=folder, verify=True)
        assert len(load_nsmc(split, data_dir=folder, verify=True, limit=3)) == 3
        facts = data._file_facts(path, data._stat_key(path))
        assert facts.rows == data.COURSE_NSMC_FILES[path.name].rows
    rows = load_unlabeled_reviews(folder, limit=3, verify=True)
    assert len(rows) == 3
    assert data.COURSE_NSMC_FILES["unlabeled_reviews.txt"].rows == 649_042
