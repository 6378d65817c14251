"""Tests for lmlib.tokenizer: BPE, character and WordPiece tokenizers trained on the course corpus."""

import importlib.util
import subprocess
import sys

import pytest

pytest.importorskip("tokenizers")

from lmlib.data import load_corpus, train_test_split  # noqa: E402
from lmlib.text import SPECIAL_TOKENS, Vocab  # noqa: E402
from lmlib.tokenizer import BYTE_TOKENS, Tokenizer, train_tokenizer  # noqa: E402

needs_kiwi = pytest.mark.skipif(
    importlib.util.find_spec("kiwipiepy") is None, reason="kiwipiepy is not installed"
)

# Characters ko_daily never uses: they must go through the byte tokens, never <unk>.
UNSEEN = ["나는 😀 웃었다", "龘 한자와 𠀋 확장 한자", "café 🇰🇷 ½ x", "탭\t과 줄\n바꿈", "한"]
SIZES = {"bpe": 1200, "char": 1200, "wordpiece": 1200}


@pytest.fixture(scope="module")
def split():
    return train_test_split(load_corpus("ko_daily"), test_fraction=0.05, seed=0)


@pytest.fixture(scope="module")
def toks(split):
    train, _ = split
    return {kind: train_tokenizer(train, kind=kind, vocab_size=size) for kind, size in SIZES.items()}


# --- ids and vocabulary -----------------------------------------------------------

@pytest.mark.parametrize("kind", list(SIZES))
def test_special_ids_match_vocab(toks, kind):
    tok, vocab = toks[kind], Vocab(list(SPECIAL_TOKENS))
    names = ["pad_id", "unk_id", "bos_id", "eos_id", "cls_id", "sep_id", "mask_id"]
    assert [getattr(tok, n) for n in names] == [getattr(vocab, n) for n in names] == list(range(7))
    assert [tok.id_to_token(i) for i in range(7)] == list(SPECIAL_TOKENS)


@pytest.mark.parametrize("kind", list(SIZES))
def test_vocab_size_is_respected(toks, kind):
    tok = toks[kind]
    assert len(SPECIAL_TOKENS) + 256 < len(tok) <= SIZES[kind]
    assert all(tok.token_to_id(tok.id_to_token(i)) == i for i in range(len(tok)))


@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_byte_tokens_follow_the_specials(toks, kind):
    tok = toks[kind]
    assert [tok.id_to_token(i) for i in range(7, 7 + 256)] == list(BYTE_TOKENS)
    assert tok.id_to_token(263) == "▁"  # then the characters, most frequent first


def test_small_char_vocab_is_capped_and_still_lossless(split):
    train, test = split
    tok = train_tokenizer(train, kind="char", vocab_size=300)
    assert len(tok) == 300  # 7 specials + 256 bytes + the 37 most frequent characters
    assert all(tok.decode(tok.encode(s)) == s for s in test)


def test_merges_make_bpe_sequences_shorter_than_char(toks, split):
    _, test = split
    n_bpe = sum(len(toks["bpe"].encode(s)) for s in test)
    n_char = sum(len(toks["char"].encode(s)) for s in test)
    assert n_bpe < 0.7 * n_char


# --- round trips ------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_round_trip_is_lossless_on_held_out_and_unseen_text(toks, split, kind):
    tok = toks[kind]
    for s in split[1] + UNSEEN:
        ids = tok.encode(s)
        assert tok.unk_id not in ids
        assert tok.decode(ids) == s


@pytest.mark.parametrize("kind", ["bpe", "char"])
def test_unseen_character_is_spelled_in_bytes(toks, kind):
    assert toks[kind].tokens("😀") == ["▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"]


def test_invalid_bytes_decode_to_the_replacement_character(toks):
    tok = toks["bpe"]
    assert tok.decode([tok.token_to_id("<0xF0>")]) == "\ufffd"


def test_bpe_pieces_are_readable_hangul(toks):
    pieces = toks["bpe"].tokens("나는 버스를 놓쳤다")
    assert "".join(pieces) == "▁나는▁버스를▁놓쳤다"
    assert len(pieces) < 6 and all(not p.startswith("<0x") for p in pieces)


def test_char_gives_one_token_per_character(toks, split):
    tok = toks["char"]
    for s in split[1] + UNSEEN:
        expected = []
        for ch in "▁" + s.replace(" ", "▁"):  # "▁" is a token of its own
            if tok.hf.token_to_id(ch) is not None:
                expected.append(ch)
            else:
                expected += [f"<0x{b:02X}>" for b in ch.encode("utf-8")]
        assert tok.tokens(s) == expected


def test_wordpiece_is_bert_style(toks, split):
    tok = toks["wordpiece"]
    pieces = [p for s in split[1] for p in tok.tokens(s)]
    assert any(p.startswith("##") for p in pieces)
    assert tok.encode("[CLS] 나는 버스를 놓쳤다 [SEP]")[0] == tok.cls_id == 4
    assert tok.encode("[CLS] 나는 [SEP]")[-1] == tok.sep_id
    assert tok.decode(tok.encode("[CLS] 나는 버스를 놓쳤다 [SEP]")) == "나는 버스를 놓쳤다"
    assert tok.encode("😀") == [tok.unk_id]  # no byte fallback: an unknown word is one <unk>
    assert tok.decode(tok.encode("나는 😀")) == "나는 <unk>"  # decode keeps <unk>, as Vocab does


def test_special_tokens_are_never_split(toks):
    tok = toks["bpe"]
    ids = tok.encode("<s>나는[MASK]")
    assert ids[0] == tok.bos_id and tok.mask_id in ids
    assert "<s>" in tok.decode(ids, skip_special=False)
    assert "<s>" not in tok.decode(ids) and "[MASK]" not in tok.decode(ids)


def test_add_bos_and_eos(toks):
    tok = toks["bpe"]
    ids = tok.encode("나는 버스를 놓쳤다")
    assert tok.encode("나는 버스를 놓쳤다", add_bos=True, add_eos=True) == [2] + ids + [3]
    assert tok.encode("나는 버스를 놓쳤다", add_eos=True) == ids + [tok.eos_id]
    assert tok.decode([2] + ids + [3]) == "나는 버스를 놓쳤다"


@pytest.mark.parametrize("kind", list(SIZES))
def test_encode_batch_equals_encode(toks, split, kind):
    tok, texts = toks[kind], split[1] + UNSEEN
    assert tok.encode_batch(texts) == [tok.encode(t) for t in texts]
    assert tok.encode_batch(texts, add_bos=True, add_eos=True) == [
        tok.encode(t, add_bos=True, add_eos=True) for t in texts]
    assert tok.encode_batch([]) == []


def test_decode_accepts_numpy_ids(toks):
    np = pytest.importorskip("numpy")
    tok = toks["bpe"]
    ids = tok.encode("나는 버스를 놓쳤다")
    assert tok.decode(np.array(ids)) == "나는 버스를 놓쳤다"


# --- files and determinism ----------------------------------------------------------

@pytest.mark.parametrize("kind", list(SIZES))
def test_save_and_load_give_the_same_tokenizer(toks, split, tmp_path, kind):
    tok = toks[kind]
    tok.save(tmp_path / "tok")
    assert (tmp_path / "tok" / "tokenizer.json").is_file()
    loaded = Tokenizer.load(tmp_path / "tok")
    assert (loaded.kind, loaded.pre_tokenize, repr(loaded)) == (kind, "none", repr(tok))
    for s in split[1][:50] + UNSEEN:
        assert loaded.encode(s) == tok.encode(s)
        assert loaded.decode(tok.encode(s)) == tok.decode(tok.encode(s))


def test_load_of_a_missing_folder_says_what_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="written by Tokenizer.save"):
        Tokenizer.load(tmp_path / "nothing")


@pytest.mark.parametrize("kind", list(SIZES))
def test_training_is_deterministic(split, kind):
    train = split[0][:1500]
    a, b = (train_tokenizer(train, kind=kind, vocab_size=700) for _ in range(2))
    assert [a.id_to_token(i) for i in range(len(a))] == [b.id_to_token(i) for i in range(len(b))]
    assert a.hf.to_str() == b.hf.to_str()  # merges included


def test_repr(toks):
    assert repr(toks["bpe"]) == "Tokenizer(kind='bpe', vocab_size=1200)"


def test_importing_lmlib_tokenizer_does_not_import_tokenizers():
    code = "import lmlib, lmlib.tokenizer, sys; assert 'tokenizers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- morphemes ----------------------------------------------------------------------

@needs_kiwi
def test_morph_pre_tokenize_splits_endings(split, tmp_path):
    tok = train_tokenizer(split[0][:400], kind="wordpiece", vocab_size=600, pre_tokenize="morph")
    pieces = tok.tokens("먹었습니다")
    assert len(pieces) > 1 and pieces[0] == "먹"
    assert tok.decode(tok.encode("먹었습니다")) == "먹 었 습니다"  # morphemes, spaced
    tok.save(tmp_path / "morph")
    assert Tokenizer.load(tmp_path / "morph").tokens("먹었습니다") == pieces


# --- errors -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(texts="나는 간다"), TypeError, "texts must be a list of str"),
    (dict(texts=[]), ValueError, "texts is empty"),
    (dict(texts=["나는", 3]), TypeError, r"texts\[1\] must be a str, got int"),
    (dict(kind="sentencepiece"), ValueError, r"kind must be one of \('bpe', 'char', 'wordpiece'\)"),
    (dict(pre_tokenize="jamo"), ValueError, r"pre_tokenize must be one of \('none', 'morph'\)"),
    (dict(vocab_size=100), ValueError, "vocab_size must be an int >= 263"),
    (dict(kind="wordpiece", vocab_size=8), ValueError, "vocab_size must be an int >= 9"),
    (dict(vocab_size="big"), TypeError, "vocab_size must be an int"),
    (dict(min_frequency=0), ValueError, "min_frequency must be an int >= 1"),
])
def test_train_tokenizer_rejects_bad_arguments(kwargs, error, match):
    kwargs = {"texts": ["나는 간다"], **kwargs}
    with pytest.raises(error, match=match):
        train_tokenizer(**kwargs)


def test_encode_decode_reject_bad_arguments(toks):
    tok = toks["bpe"]
    with pytest.raises(TypeError, match="text must be a str"):
        tok.encode(["나는"])
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str"):
        tok.encode_batch(["나는", None])
    with pytest.raises(ValueError, match=r"ids\[1\]=1200 is not a valid id for vocab_size=1200: "
                                         r"expected an int in \[0, 1200\)"):
        tok.decode([5, 1200])
    with pytest.raises(ValueError, match=r"ids\[0\] must be an int >= 0, got -1"):
        tok.decode([-1])
    with pytest.raises(TypeError, match=r"ids\[0\] must be an int >= 0, got float 1.0"):
        tok.decode([1.0])
    with pytest.raises(TypeError, match="ids must be a list of ints"):
        tok.decode("1 2 3")
    with pytest.raises(ValueError, match="id=5000 is not a valid id for vocab_size=1200"):
        tok.id_to_token(5000)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.token_to_id("없는토큰xyz")


def test_constructor_checks_its_arguments(toks):
    with pytest.raises(TypeError, match="hf_tokenizer must be a tokenizers.Tokenizer"):
        Tokenizer(object(), "bpe")
    with pytest.raises(ValueError, match="kind must be one of"):
        Tokenizer(toks["bpe"].hf, "unigram")
