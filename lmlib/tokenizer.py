"""Subword tokenizers (BPE for GPT, WordPiece for BERT) and the character baseline.

Lecture: a word-level vocabulary cannot hold every word of Korean, and a character
vocabulary makes sequences long; subword units sit in between. A tokenizer is learned
from a corpus with Hugging Face ``tokenizers`` and wrapped in one small class:

* ``"bpe"`` (GPT chapters, SentencePiece style): text is split at spaces, ``"▁"`` (U+2581)
  marks the start of a word, and merges of frequent pairs build pieces such as
  ``['▁발', '▁없는', '▁말이']``. Byte fallback: the 256 byte tokens ``<0x00>``..``<0xFF>``
  are ordinary vocabulary entries, so a character never seen in training (an emoji, a
  rare Hanja) is spelled as its UTF-8 bytes, never ``<unk>``. ``decode(encode(t)) == t``
  for any NFC text ``t`` without leading spaces and without a literal ``"▁"`` (which
  comes back as a space); other text comes back NFC-normalised.
* ``"char"``: the same model with no merges, one token per character; the word-start
  marker ``"▁"`` is a token of its own. Also lossless.
* ``"wordpiece"`` (BERT chapters, KLUE style): words and punctuation are split apart,
  later pieces of a word start with ``"##"``. Not lossless: decode guesses the spaces
  around punctuation (``(철수)야`` comes back as ``( 철수 ) 야``), and a word with a
  character outside the vocabulary becomes one ``<unk>``.

Vocabulary ids: the special tokens of :mod:`lmlib.text` take 0..6 (as in ``Vocab``);
for bpe and char the 256 byte tokens follow (7..262), then the characters, most frequent
first, then (bpe) the merged pieces; wordpiece has the characters, their "##" forms and
the merged pieces after the specials. ``vocab_size`` counts all of them.

``pre_tokenize="morph"`` first splits every sentence into Kiwi morphemes joined by spaces
(``먹었습니다 -> 먹 었 습니다``), as the KLUE tokenizer does before WordPiece; decode
then returns that spaced text, not the original spacing.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .base import check_bool, check_path, read_json
from .text import (SPACE_TOKEN, SPECIAL_TOKENS, UNK, MorphTokenizer, TokenizerBase, _check_int,
                   _check_text, _check_texts)

KINDS = ("bpe", "char", "wordpiece")
PRE_TOKENIZE = ("none", "morph")
BYTE_TOKENS = tuple(f"<0x{b:02X}>" for b in range(256))
_SPECIAL_ID = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
_HF_FILE, _CONFIG_FILE = "tokenizer.json", "lmlib_tokenizer.json"
_BATCH = 10_000  # texts per encode_batch call (one progress-bar step)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _min_vocab_size(kind: str) -> int:
    # wordpiece: the specials plus one character and its "##" form; bpe/char: specials + bytes.
    return len(SPECIAL_TOKENS) + (2 if kind == "wordpiece" else len(BYTE_TOKENS))


def _alphabet(texts: list[str], size: int, min_count: int, kind: str) -> list[str]:
    """The ``size`` most frequent characters seen ``min_count`` times (ties: by character)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text)
    if kind == "wordpiece":  # BertPreTokenizer drops whitespace
        for ch in [ch for ch in counts if ch.isspace()]:
            del counts[ch]
    else:  # Metaspace turns " " into "▁" and puts one "▁" before each sentence
        counts[SPACE_TOKEN] += counts.pop(" ", 0) + len(texts)
    kept = sorted((ch for ch, n in counts.items() if n >= min_count), key=lambda ch: (-counts[ch], ch))
    return kept[:size]


def _hf_tokenizers() -> Any:
    """The ``tokenizers`` package, imported on first use so that ``import lmlib`` stays light."""
    try:
        import tokenizers
    except ImportError as err:
        raise ImportError("Subword tokenizers need Hugging Face tokenizers: "
                          "pip install tokenizers") from err
    return tokenizers


def _inner_chars(texts: list[str]) -> set[str]:
    """Characters seen after the first one of a BERT word: the ones that need a "##" form."""
    pre_tokenizer, inner = _hf_tokenizers().pre_tokenizers.BertPreTokenizer(), set()
    for text in texts:
        for word, _ in pre_tokenizer.pre_tokenize_str(text):
            inner.update(word[1:])
    return inner


def _new_hf_tokenizer(kind: str, vocab: dict[str, int] | None = None,
                      merges: list[tuple[str, str]] | None = None) -> Any:
    """A Hugging Face tokenizer with the pipeline of ``kind`` (empty if no vocab is given)."""
    tk = _hf_tokenizers()
    decoders, models, pre_tokenizers = tk.decoders, tk.models, tk.pre_tokenizers
    if kind == "wordpiece":
        hf = tk.Tokenizer(models.WordPiece(vocab=vocab, unk_token=UNK))
        hf.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        hf.decoder = decoders.WordPiece()
    else:
        hf = tk.Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=UNK, byte_fallback=True))
        hf.pre_tokenizer = pre_tokenizers.Metaspace()  # SentencePiece style, readable Hangul pieces
        hf.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    hf.normalizer = tk.normalizers.NFC()
    return hf


def _morph_split(texts: list[str], morph: MorphTokenizer, progress: bool) -> list[str]:
    if progress:
        from tqdm.auto import tqdm
        texts = tqdm(texts, desc="morphemes")
    return [" ".join(morph.tokenize(text)) for text in texts]


class Tokenizer(TokenizerBase):
    """A trained subword (or character) tokenizer: a thin wrapper around a `tokenizers.Tokenizer`,
    with the interface of every lmlib tokenizer (lmlib.text.TokenizerBase)."""

    files = (_HF_FILE, _CONFIG_FILE)  # what save writes into its folder

    def __init__(self, hf_tokenizer: Any, kind: str, pre_tokenize: str = "none") -> None:
        if not isinstance(hf_tokenizer, _hf_tokenizers().Tokenizer):
            raise TypeError("hf_tokenizer must be a tokenizers.Tokenizer, "
                            f"got {type(hf_tokenizer).__name__}")
        for token, i in _SPECIAL_ID.items():
            if hf_tokenizer.token_to_id(token) != i:
                raise ValueError(f"hf_tokenizer must give the special token {token!r} the id {i} "
                                 f"(as lmlib.text.Vocab does), got {hf_tokenizer.token_to_id(token)}")
        self.hf = hf_tokenizer  # the Hugging Face tokenizer, for anything this class does not wrap
        self.kind = _check_choice("kind", kind, KINDS)
        self.pre_tokenize = _check_choice("pre_tokenize", pre_tokenize, PRE_TOKENIZE)
        self._morph = MorphTokenizer() if pre_tokenize == "morph" else None

    # --- sizes and special ids -------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """Number of ids, special and byte tokens included."""
        return self.hf.get_vocab_size(with_added_tokens=True)

    def __repr__(self) -> str:
        morph = ", pre_tokenize='morph'" if self.pre_tokenize == "morph" else ""
        return f"Tokenizer(kind={self.kind!r}, vocab_size={self.vocab_size}{morph})"

    # --- encode / decode ---------------------------------------------------------

    def _prepare(self, text: str) -> str:
        return " ".join(self._morph.tokenize(text)) if self._morph is not None else text

    def _encode(self, text: str) -> list[int]:
        return self.hf.encode(self._prepare(text), add_special_tokens=False).ids

    def encode_batch(self, texts: Iterable[str], add_bos: bool = False, add_eos: bool = False,
                     progress: bool = False) -> list[list[int]]:
        """``[encode(t) for t in texts]``, computed by Hugging Face's multi-threaded encode_batch."""
        texts = _check_texts(texts)
        bos = [self.bos_id] if check_bool(add_bos, "add_bos") else []
        eos = [self.eos_id] if check_bool(add_eos, "add_eos") else []
        starts: Iterable[int] = range(0, len(texts), _BATCH)
        if check_bool(progress, "progress"):
            from tqdm.auto import tqdm
            starts = tqdm(starts, desc="encoding", unit="batch")
        out = []
        for start in starts:
            chunk = [self._prepare(t) for t in texts[start:start + _BATCH]]
            out += [bos + enc.ids + eos for enc in self.hf.encode_batch(chunk, add_special_tokens=False)]
        return out

    def tokens(self, text: str) -> list[str]:
        """The readable pieces of ``text``, e.g. ``['▁발', '▁없는', '▁말이']`` (bpe)."""
        return self.hf.encode(self._prepare(_check_text(text)), add_special_tokens=False).tokens

    def _decode(self, ids: list[int]) -> str:
        # Byte tokens that do not form valid UTF-8 (a model may emit them) become "\ufffd".
        return self.hf.decode(ids, skip_special_tokens=False)

    def _id_to_token(self, id: int) -> str:
        return self.hf.id_to_token(id)

    def _lookup(self, token: str) -> int | None:
        return self.hf.token_to_id(token)

    # --- files -------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the folder ``path`` (created if needed): tokenizer.json and lmlib_tokenizer.json."""
        folder = check_path(path, "path")
        folder.mkdir(parents=True, exist_ok=True)
        self.hf.save(str(folder / _HF_FILE))
        config = {"format": "lmlib.Tokenizer", "version": 1, "kind": self.kind,
                  "pre_tokenize": self.pre_tokenize}
        (folder / _CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Tokenizer:
        """Read a tokenizer folder written by :meth:`save`."""
        folder = check_path(path, "path")
        for name in (_HF_FILE, _CONFIG_FILE):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{folder / name} not found: path must be a folder written by "
                                        f"Tokenizer.save (holding {_HF_FILE} and {_CONFIG_FILE})")
        config = read_json(folder / _CONFIG_FILE, "Tokenizer.save", format="lmlib.Tokenizer")
        hf_class = _hf_tokenizers().Tokenizer
        try:
            hf = hf_class.from_file(str(folder / _HF_FILE))
        except Exception as err:  # tokenizers' own errors (a plain Exception) name no file
            raise ValueError(f"{folder / _HF_FILE} could not be read as a Hugging Face tokenizer "
                             f"(damaged?): {err}") from None
        return cls(hf, config.get("kind"), config.get("pre_tokenize"))


def train_tokenizer(texts: Iterable[str], kind: str = "bpe", vocab_size: int = 4000,
                    min_frequency: int = 2, pre_tokenize: str = "none",
                    progress: bool = False) -> Tokenizer:
    """Learn a ``kind`` tokenizer ("bpe", "char" or "wordpiece") with at most ``vocab_size`` ids.

    ``min_frequency``: how often a pair must occur to be merged (bpe, wordpiece) and a
    character to get its own id (bpe, char; rarer ones are spelled in bytes). Characters
    are kept most frequent first while they fit; wordpiece keeps every character that fits
    in half of the non-special ids, because each may also need its "##" form.
    The same texts and arguments always give the same vocabulary.
    """
    texts = _check_texts(texts, allow_empty=False)
    kind = _check_choice("kind", kind, KINDS)
    pre_tokenize = _check_choice("pre_tokenize", pre_tokenize, PRE_TOKENIZE)
    vocab_size = _check_int("vocab_size", vocab_size, _min_vocab_size(kind))
    min_frequency = _check_int("min_frequency", min_frequency, 1)
    trainers = _hf_tokenizers().trainers

    if pre_tokenize == "morph":
        texts = _morph_split(texts, MorphTokenizer(), progress)
    texts = [unicodedata.normalize("NFC", t) for t in texts]  # count what the model will see
    n_fixed = len(SPECIAL_TOKENS) + (0 if kind == "wordpiece" else len(BYTE_TOKENS))
    if kind == "wordpiece":  # half of the free ids at most, as each character may need "##"
        alphabet = _alphabet(texts, (vocab_size - n_fixed) // 2, 1, kind)
    else:
        alphabet = _alphabet(texts, vocab_size - n_fixed, min_frequency, kind)
    # Our own alphabet (ties broken by the character) passed with limit_alphabet keeps the
    # trainer within vocab_size and its ids the same from run to run.
    options = dict(min_frequency=min_frequency, show_progress=progress,
                   initial_alphabet=alphabet, limit_alphabet=len(alphabet))
    pieces, merges = list(alphabet), []
    if kind == "wordpiece":
        # The "##" forms are listed up front: the trainer would add them in hash-map order,
        # which changes their ids, and so the merges chosen among ties, from run to run.
        inner = _inner_chars(texts)
        pieces += ["##" + ch for ch in alphabet if ch in inner]
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocab_size, special_tokens=[*SPECIAL_TOKENS, *pieces[len(alphabet):]], **options)
    elif kind == "bpe":
        # The byte tokens cannot be given to the trainer as ordinary entries, so it learns
        # the rest of the vocabulary and the model is rebuilt below with them included.
        trainer = trainers.BpeTrainer(vocab_size=vocab_size - len(BYTE_TOKENS),
                                      special_tokens=list(SPECIAL_TOKENS), **options)
    if kind != "char":  # char: the alphabet alone, no merges
        trained = _new_hf_tokenizer(kind)
        trained.train_from_iterator(texts, trainer)
        model = json.loads(trained.to_str())["model"]
        pieces += sorted(model["vocab"], key=model["vocab"].get)
        if kind == "bpe":  # 0.23 writes merges as pairs; older versions as "a b" strings
            merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m)
                      for m in model["merges"]]
    # ids: specials, bytes (bpe, char), characters by frequency, "##" forms, merged pieces.
    vocab: dict[str, int] = {}
    for token in [*SPECIAL_TOKENS, *(BYTE_TOKENS if n_fixed > len(SPECIAL_TOKENS) else ()), *pieces]:
        vocab.setdefault(token, len(vocab))
    hf = _new_hf_tokenizer(kind, vocab, merges)
    hf.add_special_tokens(list(SPECIAL_TOKENS))  # already ids 0..6; now never split, skippable
    return Tokenizer(hf, kind, pre_tokenize)
