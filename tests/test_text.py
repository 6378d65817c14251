"""Tests for lmlib.text: tokenizers at three levels and the vocabulary."""

import importlib.util
import json

import pytest

from lmlib import text
from lmlib.text import (
    SPECIAL_TOKENS,
    CharTokenizer,
    EojeolTokenizer,
    MorphTokenizer,
    Vocab,
    tokenize,
)

needs_kiwi = pytest.mark.skipif(
    importlib.util.find_spec("kiwipiepy") is None, reason="kiwipiepy is not installed"
)


# --- eojeol ---------------------------------------------------------------

def test_eojeol_splits_on_whitespace():
    assert tokenize("나는 어제 카페에 갔다") == ["나는", "어제", "카페에", "갔다"]


def test_eojeol_normalises_whitespace_on_round_trip():
    tok = EojeolTokenizer()
    tokens = tok.tokenize("  나는\t어제   카페에\n갔다 ")
    assert tokens == ["나는", "어제", "카페에", "갔다"]
    assert tok.detokenize(tokens) == "나는 어제 카페에 갔다"


def test_empty_text_gives_no_tokens():
    assert tokenize("") == []
    assert tokenize("", level="char") == []


# --- char -------------------------------------------------------------------

def test_char_marks_spaces_visibly():
    assert tokenize("카페 가", level="char") == ["카", "페", "▁", "가"]


@pytest.mark.parametrize("sentence", ["어제 카페 갔었어", "  두  칸\t띄우기 ", "a b\nc"])
def test_char_round_trips_exactly(sentence):
    tok = CharTokenizer()
    assert tok.detokenize(tok.tokenize(sentence)) == sentence


def test_char_refuses_text_containing_the_space_marker():
    with pytest.raises(ValueError, match="U\\+2581"):
        CharTokenizer().tokenize("이미▁있음")


# --- morph ------------------------------------------------------------------

@needs_kiwi
def test_morph_finds_the_noun():
    tokens = tokenize("어제 카페 갔었어", level="morph")
    assert "카페" in tokens
    assert "갔었어" not in tokens  # the verb is split into morphemes


@needs_kiwi
def test_morph_with_tags_round_trips_through_kiwi_join():
    tok = MorphTokenizer(with_tags=True)
    tokens = tok.tokenize("어제 카페 갔었어")
    assert "카페/NNG" in tokens
    assert tok.detokenize(tokens) == "어제 카페 갔었어"


@needs_kiwi
def test_morph_without_tags_joins_with_spaces():
    tok = MorphTokenizer()
    assert tok.detokenize(["카페", "에"]) == "카페 에"


@needs_kiwi
def test_morph_detokenize_rejects_untagged_tokens():
    with pytest.raises(ValueError, match="form/TAG"):
        MorphTokenizer(with_tags=True).detokenize(["카페"])


def test_missing_kiwipiepy_says_how_to_install(without_kiwipiepy):
    with pytest.raises(ImportError, match="pip install kiwipiepy"):
        MorphTokenizer()


# --- bad input --------------------------------------------------------------

@pytest.mark.parametrize("level", ["eojeol", "char", "morph"])
def test_non_str_text_is_a_type_error(level):
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize(["나는", "간다"], level=level)


def test_unknown_level_lists_the_levels():
    with pytest.raises(ValueError, match="level must be one of .*'morph'"):
        tokenize("나는 간다", level="word")


def test_detokenize_refuses_a_plain_string():
    with pytest.raises(TypeError, match="tokens must be a list of str"):
        EojeolTokenizer().detokenize("나는 간다")


# --- Vocab ------------------------------------------------------------------

CORPUS = [["나는", "카페", "간다"], ["너는", "카페", "간다"], ["나는", "집"]]


def test_special_tokens_take_ids_0_to_6():
    vocab = Vocab.build(CORPUS)
    assert list(vocab.itos[:7]) == ["<pad>", "<unk>", "<s>", "</s>", "[CLS]", "[SEP]", "[MASK]"]
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id,
            vocab.cls_id, vocab.sep_id, vocab.mask_id) == (0, 1, 2, 3, 4, 5, 6)
    assert tuple(vocab.itos[:7]) == SPECIAL_TOKENS


def test_order_is_by_frequency_then_token():
    vocab = Vocab.build(CORPUS)
    # 간다, 나는, 카페 appear twice (sorted as strings), 너는 and 집 once.
    assert list(vocab.itos[7:]) == ["간다", "나는", "카페", "너는", "집"]
    assert len(vocab) == 12


def test_encode_decode_round_trip():
    vocab = Vocab.build(CORPUS)
    ids = vocab.encode(["나는", "카페", "간다"], add_bos=True, add_eos=True)
    assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id
    assert vocab.decode(ids) == ["<s>", "나는", "카페", "간다", "</s>"]
    assert vocab.decode(ids, skip_special=True) == ["나는", "카페", "간다"]


def test_unknown_token_becomes_unk_and_is_kept_when_decoding():
    vocab = Vocab.build(CORPUS)
    ids = vocab.encode(["나는", "학교"])
    assert ids == [vocab.token_to_id("나는"), vocab.unk_id]
    assert vocab.decode(ids, skip_special=True) == ["나는", "<unk>"]
    assert "학교" not in vocab and "카페" in vocab


def test_min_freq_drops_rare_tokens():
    vocab = Vocab.build(CORPUS, min_freq=2)
    assert list(vocab.itos[7:]) == ["간다", "나는", "카페"]
    assert vocab.encode(["집"]) == [vocab.unk_id]


def test_max_size_counts_the_special_tokens():
    vocab = Vocab.build(CORPUS, max_size=9)
    assert len(vocab) == 9
    assert list(vocab.itos[7:]) == ["간다", "나는"]


def test_special_token_in_corpus_keeps_its_special_id():
    vocab = Vocab.build([["<s>", "안녕"]])
    assert vocab.itos.count("<s>") == 1
    assert vocab.encode(["<s>"]) == [vocab.bos_id]


def test_save_load_equality(tmp_path):
    vocab = Vocab.build(CORPUS)
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert "카페" in path.read_text(encoding="utf-8")  # ensure_ascii=False: readable Korean
    loaded = Vocab.load(path)
    assert loaded == vocab
    assert loaded.stoi == vocab.stoi


def test_load_rejects_other_json(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="other.json was not written by Vocab.save"):
        Vocab.load(path)


def test_decode_out_of_range_id_names_the_id():
    vocab = Vocab.build(CORPUS)
    with pytest.raises(ValueError, match=rf"ids\[1\]=99 is not a valid id for vocab_size={len(vocab)}"):
        vocab.decode([7, 99])
    with pytest.raises(ValueError, match=r"ids\[0\] must be an int >= 0, got -1"):
        vocab.decode([-1])


def test_build_from_sentences_says_tokenize_first():
    with pytest.raises(TypeError, match="tokenize first"):
        Vocab.build(["나는 카페 간다", "너는 집"])


def test_build_rejects_non_str_tokens():
    with pytest.raises(TypeError, match=r"token_lists\[0\]\[1\] must be a str"):
        Vocab.build([["나는", 3]])


@pytest.mark.parametrize("kwargs, match", [
    ({"min_freq": 0}, "min_freq must be an int >= 1"),
    ({"max_size": 3}, "max_size must be an int >= 7"),
])
def test_build_validates_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Vocab.build(CORPUS, **kwargs)


def test_encode_refuses_a_plain_string():
    with pytest.raises(TypeError, match="tokenize the text first"):
        Vocab.build(CORPUS).encode("나는 카페 간다")


def test_vocab_requires_specials_first():
    with pytest.raises(ValueError, match="must start with the special tokens"):
        Vocab(["나는", "<pad>"])


def test_english_tokenizer_counts_the_lecture_example():
    from lmlib.text import tokenize

    tokens = tokenize("I went to the cafe, there were many people there", level="english")
    assert tokens == ["I", "went", "to", "the", "cafe", "there", "were", "many", "people", "there"]
    assert tokenize("there weren't many", level="english") == ["there", "weren't", "many"]
