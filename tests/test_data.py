"""Tests for lmlib.data: the packaged corpus, train/test split and the NSMC loader.

Nothing here touches the network: downloads are served from memory by replacing
``lmlib.data._open_url``.
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
from lmlib.data import Review, load_corpus, load_nsmc, nsmc_path, train_test_split

REPO_ROOT = Path(__file__).resolve().parents[1]

# A tiny NSMC-format file: header, a normal row, an empty document, a row whose text
# contains a carriage return and U+2028 (must not split the row).
NSMC_TEXT = (
    "id\tdocument\tlabel\n"
    "101\t재밌어요 강추\t1\n"
    "102\t\t0\n"
    "103\t별로\r였음\u2028진짜\t0\n"
)


# --- course corpus ------------------------------------------------------------

@pytest.fixture
def corpus_dir(tmp_path, monkeypatch):
    """Point load_corpus at a temporary folder instead of lmlib/data."""
    (tmp_path / "ko_daily.txt").write_text(
        "\ufeff나는 방금 버스를 놓쳤다\n\n  오늘은 비가 온다  \n   \n", encoding="utf-8"
    )
    (tmp_path / "tiny.txt").write_text("하나\n", encoding="utf-8")
    monkeypatch.setattr(data, "_corpus_dir", lambda: tmp_path)
    return tmp_path


def test_load_corpus_strips_and_drops_empty_lines(corpus_dir):
    assert load_corpus() == ["나는 방금 버스를 놓쳤다", "오늘은 비가 온다"]
    assert load_corpus("tiny") == ["하나"]


def test_load_corpus_unknown_name_lists_available(corpus_dir):
    with pytest.raises(ValueError, match=r"\['ko_daily', 'tiny'\], got 'nope'"):
        load_corpus("nope")
    with pytest.raises(ValueError, match="got '../ko_daily'"):
        load_corpus("../ko_daily")


def test_split_is_deterministic_and_loses_nothing():
    items = [f"문장{i}" for i in range(100)]
    train, test = train_test_split(items, test_fraction=0.2, seed=3)
    assert len(test) == 20 and len(train) == 80
    assert sorted(train + test) == sorted(items)
    assert train_test_split(items, test_fraction=0.2, seed=3) == (train, test)
    assert train_test_split(items, test_fraction=0.2, seed=4) != (train, test)


def test_split_keeps_both_parts_non_empty():
    train, test = train_test_split(["a", "b", "c"], test_fraction=0.01)
    assert len(test) == 1 and len(train) == 2


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1])
def test_split_rejects_bad_fraction(fraction):
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        train_test_split(["a", "b"], test_fraction=fraction)


def test_split_refuses_a_plain_string():
    with pytest.raises(TypeError, match="items must be a list"):
        train_test_split("나는 간다")


# --- NSMC: path resolution --------------------------------------------------------

@pytest.fixture
def clean_env(nsmc_offline):
    """No LMLIB_NSMC_DIR, an empty private cache, not in Colab, and no network (conftest)."""
    return nsmc_offline


def write_nsmc(folder: Path, split: str = "train", text: str = NSMC_TEXT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ratings_{split}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_data_dir_argument_wins(clean_env):
    path = write_nsmc(clean_env / "mine")
    assert nsmc_path("train", data_dir=clean_env / "mine") == path


def test_data_dir_without_the_file_says_so(clean_env):
    write_nsmc(clean_env / "mine", split="train")
    with pytest.raises(FileNotFoundError, match="has no ratings_test.txt .*holds: ratings_train.txt"):
        nsmc_path("test", data_dir=clean_env / "mine")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nsmc_path("test", data_dir=clean_env / "missing")


def test_env_var_is_used(clean_env, monkeypatch):
    path = write_nsmc(clean_env / "env")
    monkeypatch.setenv("LMLIB_NSMC_DIR", str(clean_env / "env"))
    assert nsmc_path("train") == path
    with pytest.raises(FileNotFoundError, match="LMLIB_NSMC_DIR=.* is set, but .*ratings_test.txt"):
        nsmc_path("test")


def test_cache_is_used_when_present(clean_env, monkeypatch):
    path = write_nsmc(clean_env / "cache" / "lmlib" / "nsmc")
    # The cache holds only official files and is checked as such: let the tiny file be it.
    monkeypatch.setitem(data.NSMC_SHA256, "train", hashlib.sha256(path.read_bytes()).hexdigest())
    monkeypatch.setitem(data.NSMC_NUM_ROWS, "train", 3)
    assert nsmc_path("train", download=True) == path  # present: no download needed


def test_not_found_message_says_where_and_how(clean_env):
    with pytest.raises(FileNotFoundError) as info:
        nsmc_path("train", download=False)
    message = str(info.value)
    assert "LMLIB_NSMC_DIR" in message
    assert str(clean_env / "cache" / "lmlib" / "nsmc" / "ratings_train.txt") in message
    assert "data_dir" in message and "download=True" in message


def test_bad_split_and_download_values(clean_env):
    with pytest.raises(ValueError, match="split must be one of"):
        nsmc_path("dev")
    with pytest.raises(TypeError, match="download must be True, False or None"):
        nsmc_path("train", download="yes")


# --- NSMC: download (served from memory) ---------------------------------------------

def serve(monkeypatch, payload: bytes, sha256: str | None = None, fail_after: int | None = None):
    """Replace the URL opener with one serving ``payload``; return the list of URLs asked."""
    asked = []

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(payload))}

        def read(self, n=-1):
            if fail_after is not None and self.tell() >= fail_after:
                raise ConnectionResetError("connection lost")
            return super().read(min(n, 4))  # small chunks: exercise the loop

    def fake_open(url, timeout):
        asked.append(url)
        return Response(payload)

    monkeypatch.setattr(data, "_open_url", fake_open)
    digest = sha256 or hashlib.sha256(payload).hexdigest()
    monkeypatch.setitem(data.NSMC_SHA256, "train", digest)
    # A downloaded file is checked for its row count too: the payload's, not 150,000.
    monkeypatch.setitem(data.NSMC_NUM_ROWS, "train", payload.count(b"\n") - 1)
    return asked


def test_download_true_saves_verified_file_in_cache(clean_env, monkeypatch):
    payload = NSMC_TEXT.encode("utf-8")
    asked = serve(monkeypatch, payload)
    reviews = load_nsmc("train", download=True)
    cache = clean_env / "cache" / "lmlib" / "nsmc"
    assert asked == ["https://raw.githubusercontent.com/e9t/nsmc/master/ratings_train.txt"]
    assert (cache / "ratings_train.txt").read_bytes() == payload
    assert os.listdir(cache) == ["ratings_train.txt"]  # no temporary file left behind
    assert len(reviews) == 3
    load_nsmc("train", download=True)  # second call reads the cache
    assert len(asked) == 1


def test_checksum_mismatch_raises_and_leaves_no_file(clean_env, monkeypatch):
    serve(monkeypatch, NSMC_TEXT.encode("utf-8"), sha256="0" * 64)
    with pytest.raises(ValueError, match="checksum mismatch"):
        nsmc_path("train", download=True)
    assert os.listdir(clean_env / "cache" / "lmlib" / "nsmc") == []


def test_interrupted_download_leaves_no_file(clean_env, monkeypatch):
    serve(monkeypatch, NSMC_TEXT.encode("utf-8"), fail_after=8)
    with pytest.raises(OSError, match="could not download .*connection lost") as info:
        nsmc_path("train", download=True)
    assert os.listdir(clean_env / "cache" / "lmlib" / "nsmc") == []
    assert "내려받지 못했습니다" in str(info.value) and 'os.environ["LMLIB_NSMC_DIR"]' in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained traceback


def test_download_false_never_fetches(clean_env):
    # clean_env's opener fails the test if called; FileNotFoundError proves it was not.
    with pytest.raises(FileNotFoundError):
        nsmc_path("train", download=False)
    with pytest.raises(FileNotFoundError):
        nsmc_path("train")  # None outside Colab: no download either


def test_download_none_fetches_in_colab(clean_env, monkeypatch):
    asked = serve(monkeypatch, NSMC_TEXT.encode("utf-8"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert nsmc_path("train").is_file()
    assert len(asked) == 1


def test_official_checksums_are_sha256_hex():
    for split in ("train", "test"):
        digest = data.NSMC_SHA256[split]
        assert len(digest) == 64 and int(digest, 16) >= 0


# --- NSMC: parsing ------------------------------------------------------------------

def test_load_nsmc_parses_rows_and_keeps_empty_documents(clean_env):
    write_nsmc(clean_env / "d")
    reviews = load_nsmc("train", data_dir=clean_env / "d")
    assert reviews == [
        Review("101", "재밌어요 강추", 1),
        Review("102", "", 0),
        Review("103", "별로\r였음\u2028진짜", 0),
    ]
    with pytest.raises(AttributeError):
        reviews[0].label = 0  # frozen


def test_load_nsmc_reads_windows_line_endings(clean_env):
    write_nsmc(clean_env / "d", text="id\tdocument\tlabel\r\n101\t좋아요\t1\r\n")
    assert load_nsmc("train", data_dir=clean_env / "d") == [Review("101", "좋아요", 1)]


def test_load_nsmc_limit(clean_env):
    write_nsmc(clean_env / "d")
    assert [r.id for r in load_nsmc("train", data_dir=clean_env / "d", limit=2)] == ["101", "102"]
    assert load_nsmc("train", data_dir=clean_env / "d", limit=0) == []
    with pytest.raises(ValueError, match="limit must be an int >= 0"):
        load_nsmc("train", data_dir=clean_env / "d", limit=-1)


@pytest.mark.parametrize("bad_row, match", [
    ("104\t두 개\t의 탭\t1\n", r"ratings_train.txt, line 5: expected 3 tab-separated columns"),
    ("104\t좋아요\t5\n", r"ratings_train.txt, line 5: label must be 0 or 1, got '5'"),
    ("\n", r"ratings_train.txt, line 5: expected 3 tab-separated columns .* got 1"),
])
def test_load_nsmc_bad_rows_name_file_and_line(clean_env, bad_row, match):
    write_nsmc(clean_env / "d", text=NSMC_TEXT + bad_row)
    with pytest.raises(ValueError, match=match):
        load_nsmc("train", data_dir=clean_env / "d")


def test_load_nsmc_checks_the_header(clean_env):
    write_nsmc(clean_env / "d", text="101\t재밌어요\t1\n")
    with pytest.raises(ValueError, match="line 1: expected the header"):
        load_nsmc("train", data_dir=clean_env / "d")


# --- NSMC: the real local copy (skipped where it is absent) ---------------------------



@pytest.mark.skipif(local_nsmc_dir() is None, reason="no local NSMC copy (LMLIB_NSMC_DIR unset)")
def test_local_nsmc_copy_counts_and_balance():
    folder = local_nsmc_dir()
    train = load_nsmc("train", data_dir=folder)
    test = load_nsmc("test", data_dir=folder)
    assert len(train) == 150_000 and len(test) == 50_000
    for reviews in (train, test):
        positive = sum(r.label for r in reviews) / len(reviews)
        assert 0.48 < positive < 0.52


def test_parallel_corpus_has_the_lecture_pair_and_a_fixed_split():
    from lmlib.data import load_parallel, parallel_split

    pairs = load_parallel()
    assert ("어제 카페 갔었어 거기 사람 많더라", "I went to the cafe, there were many people there") in pairs
    assert len(set(pairs)) == len(pairs)
    train, test = parallel_split()
    assert len(train) + len(test) == len(pairs) and len(test) == round(0.1 * len(pairs))
    assert parallel_split()[1] == test  # the held-out split never changes between calls
    assert all(src and tgt for src, tgt in train + test)


def test_load_parallel_rejects_unknown_names():
    from lmlib.data import load_parallel

    with pytest.raises(ValueError, match="name"):
        load_parallel("nope")


# --- trained review ids (Colab-clean evaluation) -------------------------------------

def test_trained_ids_round_trip_and_drop(tmp_path):
    from lmlib.data import drop_trained_reviews, load_trained_ids, save_trained_ids

    assert save_trained_ids(tmp_path, ["9976970", "7", "101", "7"]) == 3
    assert load_trained_ids(tmp_path) == {"7", "101", "9976970"}
    reviews = [Review("101", "a", 1), Review("102", "b", 0), Review("9976970", "c", 1)]
    assert drop_trained_reviews(reviews, tmp_path) == [Review("102", "b", 0)]


def test_trained_ids_union_over_checkpoints(tmp_path):
    from lmlib.data import drop_trained_reviews, save_trained_ids

    save_trained_ids(tmp_path / "a", ["1"])
    save_trained_ids(tmp_path / "b", ["2"])
    reviews = [Review(i, "x", 0) for i in ("1", "2", "3")]
    assert [r.id for r in drop_trained_reviews(reviews, tmp_path / "a", tmp_path / "b")] == ["3"]


@pytest.mark.parametrize("ids, match", [
    ("12345", "single str"), (["12a"], "decimal"), ([12], "decimal"), ([], "empty"),
    (["99999999999"], "2\\*\\*32"),
])
def test_save_trained_ids_rejects_bad_ids(tmp_path, ids, match):
    from lmlib.data import save_trained_ids

    with pytest.raises((TypeError, ValueError), match=match):
        save_trained_ids(tmp_path, ids)


def test_drop_trained_reviews_errors(tmp_path):
    from lmlib.data import drop_trained_reviews, save_trained_ids

    with pytest.raises(FileNotFoundError, match="trained_ids.npz"):
        drop_trained_reviews([], tmp_path)
    with pytest.raises(ValueError, match="at least one checkpoint"):
        drop_trained_reviews([])
    save_trained_ids(tmp_path, ["1"])
    with pytest.raises(TypeError, match="Review"):
        drop_trained_reviews(["1"], tmp_path)


def test_every_packaged_checkpoint_records_its_trained_ids():
    from lmlib.data import available_checkpoints, checkpoint_dir, load_trained_ids

    assert available_checkpoints()
    for name in available_checkpoints():
        assert load_trained_ids(name), name
        assert (checkpoint_dir(name) / "trained_ids.npz").stat().st_size < 2_000_000


@pytest.mark.skipif(local_nsmc_dir() is None, reason="no local NSMC copy (LMLIB_NSMC_DIR unset)")
def test_no_local_test_review_is_in_any_checkpoints_training_set():
    from lmlib.data import available_checkpoints, drop_trained_reviews

    test = load_nsmc("test", data_dir=local_nsmc_dir())
    assert len(drop_trained_reviews(test, *available_checkpoints())) == len(test)


def test_the_two_senses_set_holds_three_words_of_two_senses_with_20_sentences_each():
    from collections import Counter

    from lmlib.data import load_senses

    rows = load_senses()
    counts = Counter((r.word, r.sense) for r in rows)
    words = Counter(w for w, _ in counts)
    assert len(words) >= 3 and all(n == 2 for n in words.values())
    assert min(counts.values()) >= 20
    assert len({r.id for r in rows}) == len(rows)  # one sense per review
    # The word begins an eojeol at `start` (load_senses checks the word is there).
    assert all(r.start == 0 or not r.text[r.start - 1].isalnum() for r in rows)
