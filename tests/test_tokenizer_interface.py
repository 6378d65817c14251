"""One tokenizer interface (issue 15): the same contract, run over every lmlib tokenizer that
turns text into model ids, as minbpe runs its tests over every tokenizer.

Implementations: lmlib.text.WordTokenizer at the eojeol, character, morpheme and English
levels, and lmlib.tokenizer.Tokenizer as BPE, characters and WordPiece (with and without Kiwi
morphemes). Each is trained here on a few sentences (a contract test, not a demonstration).
"""

import inspect

import pytest

from lmlib.text import SPECIAL_TOKENS, UNK, TokenizerBase, WordTokenizer
from lmlib.tokenizer import Tokenizer, train_tokenizer

KO = ["나는 어제 카페에 갔었어", "거기 사람 많더라", "발 없는 말이 천 리 간다",
      "나는 오늘 학교에 갔다", "어제 카페에 사람이 많았다"] * 2
EN = ["I went to the cafe yesterday", "there were many people there"] * 2

# name -> (make, a text it knows, a text with a word it has never seen, lossless?)
IMPLEMENTATIONS = {
    "word-eojeol": (lambda: WordTokenizer.train(KO), "나는 어제 카페에 갔었어", "나는 어제 뷁에 갔었어", False),
    "word-char": (lambda: WordTokenizer.train(KO, level="char"), "나는 어제 카페에 갔었어", "나는 뷁", False),
    "word-morph": (lambda: WordTokenizer.train(KO, level="morph"), "나는 어제 카페에 갔었어", "나는 뷁에 갔다", False),
    "word-english": (lambda: WordTokenizer.train(EN, level="english"), "I went to the cafe", "I went to Seoul", False),
    "bpe": (lambda: train_tokenizer(KO, kind="bpe", vocab_size=320, min_frequency=1),
            "나는 어제 카페에 갔었어", "나는 뷁 🙂", True),
    "char": (lambda: train_tokenizer(KO, kind="char", vocab_size=320, min_frequency=1),
             "나는 어제 카페에 갔었어", "나는 뷁", True),
    "wordpiece": (lambda: train_tokenizer(KO, kind="wordpiece", vocab_size=120, min_frequency=1),
                  "나는 어제 카페에 갔었어", "나는 뷁 갔다", False),
    "wordpiece-morph": (lambda: train_tokenizer(KO, kind="wordpiece", vocab_size=120, min_frequency=1,
                                                pre_tokenize="morph"),
                        "나는 어제 카페에 갔었어", "나는 뷁 갔다", False),
}

_built = {}


@pytest.fixture(params=list(IMPLEMENTATIONS))
def impl(request):
    name = request.param
    if name not in _built:
        _built[name] = IMPLEMENTATIONS[name][0]()
    make, known, unseen, lossless = IMPLEMENTATIONS[name]
    return _built[name], known, unseen, lossless


METHODS = ("encode", "encode_batch", "tokens", "decode", "id_to_token", "token_to_id", "save")


def test_every_implementation_has_the_same_signatures():
    ref = {m: inspect.signature(getattr(TokenizerBase, m)) for m in METHODS}
    for cls in (WordTokenizer, Tokenizer):
        assert issubclass(cls, TokenizerBase)
        for m in METHODS:
            assert inspect.signature(getattr(cls, m)) == ref[m], (cls.__name__, m)
        assert inspect.signature(cls.load).parameters.keys() == {"path"}
        assert cls.files  # save writes these into its folder


def test_special_ids_are_the_same_everywhere(impl):
    tok = impl[0]
    assert isinstance(tok, TokenizerBase) and len(tok) == tok.vocab_size
    assert [tok.id_to_token(i) for i in range(len(SPECIAL_TOKENS))] == list(SPECIAL_TOKENS)
    assert (tok.pad_id, tok.unk_id, tok.bos_id, tok.eos_id, tok.cls_id, tok.sep_id, tok.mask_id) == \
        tuple(range(7))
    assert [tok.token_to_id(t) for t in SPECIAL_TOKENS] == list(range(7))


def test_encode_gives_ids_in_the_vocabulary_with_bos_and_eos_on_request(impl):
    tok, known, _, _ = impl
    ids = tok.encode(known)
    assert ids and all(type(i) is int and 0 <= i < len(tok) for i in ids)
    assert tok.unk_id not in ids
    assert tok.encode(known, add_bos=True, add_eos=True) == [tok.bos_id] + ids + [tok.eos_id]
    assert tok.encode("") == []


def test_tokens_are_the_vocabulary_entries_of_the_ids(impl):
    tok, known, unseen, _ = impl
    for text in (known, unseen):
        ids = tok.encode(text)
        assert tok.tokens(text) == [tok.id_to_token(i) for i in ids]
        assert [tok.token_to_id(t) for t in tok.tokens(text)] == ids


def test_an_unseen_word_is_unk_or_spelled_losslessly(impl):
    tok, known, unseen, lossless = impl
    ids = tok.encode(unseen)
    if lossless:  # byte fallback: nothing is unknown
        assert tok.unk_id not in ids and tok.decode(ids) == unseen
        assert tok.decode(tok.encode(known)) == known
    else:
        assert tok.unk_id in ids and UNK in tok.decode(ids)


def test_decode_skips_the_special_tokens_but_unk(impl):
    tok, known, _, _ = impl
    ids = tok.encode(known)
    wrapped = [tok.cls_id, tok.bos_id] + ids + [tok.unk_id, tok.eos_id, tok.sep_id, tok.pad_id, tok.mask_id]
    text = tok.decode(wrapped)
    assert text == tok.decode(ids + [tok.unk_id])
    assert UNK in text and "<s>" not in text and "[MASK]" not in text
    assert "[MASK]" in tok.decode(wrapped, skip_special=False)


def test_encode_batch_is_encode_of_each_text(impl):
    tok, known, unseen, _ = impl
    assert tok.encode_batch([known, unseen], add_eos=True) == \
        [tok.encode(known, add_eos=True), tok.encode(unseen, add_eos=True)]
    assert tok.encode_batch([]) == []


def test_bad_input_gets_the_same_clear_errors(impl):
    tok = impl[0]
    cases = [
        (lambda: tok.encode(["나는"]), TypeError, "text must be a str"),
        (lambda: tok.encode("나는", add_bos="yes"), TypeError, "add_bos must be True or False"),
        (lambda: tok.encode_batch("나는"), TypeError, "texts must be a list"),
        (lambda: tok.encode_batch(["나는", 3]), TypeError, r"texts\[1\] must be a str"),
        (lambda: tok.decode("1 2"), TypeError, "ids must be a list of ints"),
        (lambda: tok.decode([7, 1.0]), TypeError, r"ids\[1\] must be an int"),
        (lambda: tok.decode([len(tok)]), ValueError, rf"ids\[0\]={len(tok)} is not a valid id"),
        (lambda: tok.decode([-1]), ValueError, r"ids\[0\] must be an int >= 0"),
        (lambda: tok.id_to_token(True), TypeError, "id must be an int"),
        (lambda: tok.id_to_token(len(tok)), ValueError, "id=.* is not a valid id"),
        (lambda: tok.token_to_id(5), TypeError, "token must be a str"),
        (lambda: tok.token_to_id("없는토큰xyz"), ValueError, "not in the vocabulary"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_save_and_load_give_the_same_tokenizer(impl, tmp_path):
    tok, known, unseen, _ = impl
    tok.save(tmp_path)
    assert all((tmp_path / f).is_file() for f in type(tok).files)
    back = type(tok).load(tmp_path)
    assert len(back) == len(tok)
    assert [back.encode(t) for t in (known, unseen)] == [tok.encode(t) for t in (known, unseen)]
    assert [back.id_to_token(i) for i in range(len(tok))] == [tok.id_to_token(i) for i in range(len(tok))]


def test_load_names_the_missing_or_damaged_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="word_tokenizer.json not found"):
        WordTokenizer.load(tmp_path)
    (tmp_path / "word_tokenizer.json").write_text('{"format": "lmlib.WordTokenizer", "itos": 3}')
    with pytest.raises(ValueError, match="word_tokenizer.json: itos must be a list"):
        WordTokenizer.load(tmp_path)
    (tmp_path / "word_tokenizer.json").write_text('{"format"')
    with pytest.raises(ValueError, match="word_tokenizer.json is not valid JSON"):
        WordTokenizer.load(tmp_path)
