"""Text: tokenizers at the lecture's levels (eojeol, character, morpheme) and a vocabulary.

Lecture: "문장은 단어들로 이루어진 시퀀셜 데이터" — a sentence is a sequence of tokens;
what counts as a token (eojeol, character, morpheme) is a modelling choice.

The three tokenizers share one small interface, ``tokenize(text) -> list[str]`` and
``detokenize(tokens) -> str``, so a notebook can swap the level and compare:

* eojeol (어절): split on whitespace. Runs of spaces, tabs and newlines all become one
  separator, so ``detokenize`` gives the text with single spaces (whitespace normalised).
* char (음절/문자): one token per character; a space becomes the visible token ``"▁"``
  (U+2581, as in SentencePiece), so ``detokenize(tokenize(text)) == text`` exactly.
* morph (형태소): Kiwi (``kiwipiepy``) analyses the sentence into morphemes such as
  ``갔었어 -> 가 / 었었 / 어``.

A :class:`Vocab` then maps tokens to integer ids, the input every model in the book needs.

Every tokenizer that turns text into model ids, the word-level :class:`WordTokenizer` (a
level's tokenize + a Vocab) and the subword ``lmlib.tokenizer.Tokenizer`` (BPE, WordPiece),
has the one interface of :class:`TokenizerBase`: ``encode(text) -> ids``, ``decode(ids) ->
text``, ``tokens(text)``, ``id_to_token``/``token_to_id``, the special ids 0..6, ``save`` /
``load`` of a folder. Unknown words become ``<unk>`` in ``encode`` (BPE never needs it: it
spells them in bytes); ``token_to_id`` of a token outside the vocabulary is an error, and
``decode(skip_special=True)`` drops the special tokens except ``<unk>``.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

# The special tokens live in lmlib.base (once, for every module); text re-exports them.
from .base import (BOS, BOS_ID, CLS, CLS_ID, EOS, EOS_ID, MASK, MASK_ID, PAD, PAD_ID,  # noqa: F401
                   SEP, SEP_ID, SPECIAL_TOKENS, UNK, UNK_ID, as_str_list, check_bool, check_int,
                   check_path, check_str, check_token_id, read_json)

SPACE_TOKEN = "▁"  # U+2581 "lower one eighth block": a space the reader can see
LEVELS = ("eojeol", "char", "morph", "english")


# ---------------------------------------------------------------------------
# input checks shared by the tokenizers and the vocabulary
# ---------------------------------------------------------------------------

def _check_text(text: Any) -> str:
    return check_str(text, "text")


def _check_tokens(tokens: Any, name: str = "tokens") -> list[str]:
    # A bare string is iterable, so without this check "안녕" would quietly become ["안", "녕"].
    return as_str_list(tokens, name, allow_empty=True, what="str tokens",
                       hint="tokenize the text first, e.g. tokenize(text)")


def _check_int(name: str, value: Any, minimum: int) -> int:
    return check_int(value, name, low=minimum)


# ---------------------------------------------------------------------------
# tokenizers
# ---------------------------------------------------------------------------

class EojeolTokenizer:
    """Split text into eojeol (whitespace-separated units); whitespace is normalised."""

    def tokenize(self, text: str) -> list[str]:
        """Return the eojeol of ``text`` (``str.split()``: any run of whitespace separates)."""
        return _check_text(text).split()

    def detokenize(self, tokens: Iterable[str]) -> str:
        """Join eojeol with single spaces (the original spacing is not kept)."""
        return " ".join(_check_tokens(tokens))


class CharTokenizer:
    """Split text into characters, spaces shown as ``"▁"``; round-trips exactly."""

    def tokenize(self, text: str) -> list[str]:
        """Return one token per character, with ``" "`` written as ``"▁"``."""
        text = _check_text(text)
        # If the text already held "▁", detokenize would turn it into a space and the
        # round trip would silently change the text; refuse instead.
        if SPACE_TOKEN in text:
            raise ValueError(
                f"text contains the space marker {SPACE_TOKEN!r} (U+2581), which CharTokenizer "
                "uses for spaces; replace it before tokenizing"
            )
        # Only " " is marked; tabs and newlines stay as their own (rare) characters.
        return [SPACE_TOKEN if ch == " " else ch for ch in text]

    def detokenize(self, tokens: Iterable[str]) -> str:
        """Concatenate the characters, turning ``"▁"`` back into spaces."""
        return "".join(" " if t == SPACE_TOKEN else t for t in _check_tokens(tokens))


# Creating a Kiwi object loads its model (seconds), so one instance is shared by all users.
_KIWI = None


def _get_kiwi():
    """Return the shared Kiwi analyser, creating it on first use."""
    global _KIWI
    if _KIWI is None:
        try:
            from kiwipiepy import Kiwi  # imported lazily: only the morph level needs it
        except ImportError as err:
            raise ImportError(
                "Morpheme tokenization needs the Korean analyser Kiwi: pip install 'lm-coursebook[morph]' (or pip install kiwipiepy)"
            ) from err
        _KIWI = Kiwi()
    return _KIWI


class MorphTokenizer:
    """Split text into morphemes with Kiwi; tokens are ``"form"`` or ``"form/TAG"``."""

    def __init__(self, with_tags: bool = False) -> None:
        if not isinstance(with_tags, bool):
            raise TypeError(f"with_tags must be a bool, got {type(with_tags).__name__}")
        self.with_tags = with_tags
        self._kiwi = _get_kiwi()  # fail at construction, not at the first sentence

    def tokenize(self, text: str) -> list[str]:
        """Return the morphemes of ``text``, e.g. ``["카페", ...]`` or ``["카페/NNG", ...]``."""
        morphs = self._kiwi.tokenize(_check_text(text))
        if self.with_tags:
            return [f"{m.form}/{m.tag}" for m in morphs]
        return [m.form for m in morphs]

    def detokenize(self, tokens: Iterable[str]) -> str:
        """Rebuild text: Kiwi's ``join`` with tags, else the morphemes joined by spaces.

        Without tags Kiwi cannot know how to re-attach endings (가 + 었었 + 어 -> 갔었어),
        so the result is only readable, e.g. ``"어제 카페 가 었었 어"``.
        """
        tokens = _check_tokens(tokens)
        if not self.with_tags:
            return " ".join(tokens)
        pairs = []
        for i, token in enumerate(tokens):
            # Split at the last "/": a form may itself contain "/" (e.g. "1/2"), a tag never does.
            form, sep, tag = token.rpartition("/")
            if not sep or not form or not tag:
                raise ValueError(f"tokens[{i}] must look like 'form/TAG', got {token!r}")
            pairs.append((form, tag))
        return self._kiwi.join(pairs)


class EnglishTokenizer:
    """English words for the translation chapters: case kept, punctuation dropped.

    "I went to the cafe, there were many people there" -> 10 tokens, as the lecture
    counts them (L12); apostrophes stay inside words ("weren't"). Not a round trip:
    detokenize joins with spaces and cannot restore the commas.
    """

    _WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")

    def tokenize(self, text: str) -> list[str]:
        """Return the words of ``text`` in order, without punctuation."""
        return self._WORD.findall(_check_text(text))

    def detokenize(self, tokens: Iterable[str]) -> str:
        """Join the words with single spaces."""
        return " ".join(_check_tokens(tokens))


_TOKENIZER_CLASSES = {"eojeol": EojeolTokenizer, "char": CharTokenizer, "morph": MorphTokenizer,
                      "english": EnglishTokenizer}
_tokenizers: dict[str, Any] = {}  # one instance per level, so tokenize() stays cheap in a loop


def get_tokenizer(level: str = "eojeol"):
    """Return the (shared) tokenizer object for ``level`` (one of LEVELS)."""
    if level not in _TOKENIZER_CLASSES:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if level not in _tokenizers:
        _tokenizers[level] = _TOKENIZER_CLASSES[level]()
    return _tokenizers[level]


def tokenize(text: str, level: str = "eojeol") -> list[str]:
    """Tokenize ``text`` at ``level`` ("eojeol", "char", "morph", or "english" for target sentences)."""
    _check_text(text)  # check text first, so a bad text never waits for Kiwi to load
    return get_tokenizer(level).tokenize(text)


# ---------------------------------------------------------------------------
# vocabulary
# ---------------------------------------------------------------------------

_SPECIAL_ID = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
# decode(skip_special=True) keeps <unk>: it stands for a real word of the text.
_SKIPPED_IDS = frozenset(_SPECIAL_ID.values()) - {UNK_ID}


class SpecialIds:
    """The special ids every vocabulary of the book gives the same tokens (SPECIAL_TOKENS)."""

    pad_id = property(lambda self: PAD_ID, doc="Id of <pad> (0).")
    unk_id = property(lambda self: UNK_ID, doc="Id of <unk> (1).")
    bos_id = property(lambda self: BOS_ID, doc="Id of <s> (2), the beginning of a sentence.")
    eos_id = property(lambda self: EOS_ID, doc="Id of </s> (3), the end of a sentence.")
    cls_id = property(lambda self: CLS_ID, doc="Id of [CLS] (4).")
    sep_id = property(lambda self: SEP_ID, doc="Id of [SEP] (5).")
    mask_id = property(lambda self: MASK_ID, doc="Id of [MASK] (6).")


class Vocab(SpecialIds):
    """A token <-> id table; the special tokens always take ids 0..6 in SPECIAL_TOKENS order."""

    def __init__(self, itos: Iterable[str]) -> None:
        itos = _check_tokens(itos, "itos")
        if tuple(itos[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(
                f"itos must start with the special tokens {list(SPECIAL_TOKENS)}, "
                f"got {itos[: len(SPECIAL_TOKENS)]}"
            )
        seen: set[str] = set()
        for token in itos:
            if token in seen:
                raise ValueError(f"itos lists the token {token!r} twice")
            seen.add(token)
        self._itos = tuple(itos)
        self._stoi = {token: i for i, token in enumerate(self._itos)}

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> Vocab:
        """Build a vocabulary from tokenized sentences (most frequent tokens first).

        Tokens seen fewer than ``min_freq`` times are left out (they will encode as <unk>).
        ``max_size`` caps ``len(vocab)``, the 7 special tokens included. Ties in frequency
        are broken by the token string, so the same corpus always gives the same ids.
        """
        min_freq = _check_int("min_freq", min_freq, 1)
        if max_size is not None:
            max_size = _check_int("max_size", max_size, len(SPECIAL_TOKENS))
        if isinstance(token_lists, str) or not isinstance(token_lists, Iterable):
            raise TypeError(
                "token_lists must be a list of token lists (e.g. [['나는', '간다'], ...]), "
                f"got {type(token_lists).__name__}; tokenize the sentences first"
            )
        counts: Counter[str] = Counter()
        n_lists = 0
        for i, tokens in enumerate(token_lists):
            if isinstance(tokens, str):
                raise TypeError(
                    f"token_lists[{i}] is a str ({tokens[:30]!r}), but token_lists must be a "
                    "list of token lists; tokenize first, e.g. [tokenize(s) for s in sentences]"
                )
            counts.update(_check_tokens(tokens, f"token_lists[{i}]"))
            n_lists += 1
        # A corpus that already contains e.g. "<s>" maps it to the special id, not a second id.
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        kept = sorted(
            (token for token, n in counts.items() if n >= min_freq),
            key=lambda token: (-counts[token], token),
        )
        if max_size is not None:
            kept = kept[: max_size - len(SPECIAL_TOKENS)]
        return cls(list(SPECIAL_TOKENS) + kept)

    # --- lookup --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self._itos == other._itos

    def __repr__(self) -> str:
        preview = ", ".join(repr(t) for t in self._itos[len(SPECIAL_TOKENS):][:5])
        return f"Vocab(size={len(self)}, first tokens: {preview})"

    @property
    def itos(self) -> tuple[str, ...]:
        """All tokens, indexed by id (read-only)."""
        return self._itos

    @property
    def stoi(self) -> Mapping[str, int]:
        """Token -> id mapping (read-only)."""
        return MappingProxyType(self._stoi)

    def token_to_id(self, token: str) -> int:
        """Return the id of ``token``; a token outside the vocabulary raises ValueError
        (``encode`` is the way that maps unknown tokens to <unk>)."""
        index = self._stoi.get(check_str(token, "token"))
        if index is None:
            raise ValueError(f"token {token!r} is not in the vocabulary; encode([token]) maps "
                             f"it to <unk>")
        return index

    def id_to_token(self, id: int) -> str:
        """Return the token with id ``id``; an id outside 0..len-1 raises ValueError."""
        return self._itos[check_token_id(id, "id", len(self))]

    # --- encode / decode -----------------------------------------------------

    def encode(self, tokens: Iterable[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Map tokens to ids; unknown tokens become the <unk> id."""
        ids = [self._stoi.get(token, self.unk_id) for token in _check_tokens(tokens)]
        if add_bos:
            ids.insert(0, self.bos_id)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int], skip_special: bool = False) -> list[str]:
        """Map ids back to tokens; ``skip_special`` drops all specials except <unk>.

        <unk> is kept because it stands for a real word of the sentence.
        """
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise TypeError(f"ids must be a list of ints, got {type(ids).__name__}")
        tokens = [self._itos[check_token_id(i, f"ids[{k}]", len(self))] for k, i in enumerate(ids)]
        if skip_special:
            tokens = [t for t in tokens if _SPECIAL_ID.get(t) not in _SKIPPED_IDS]
        return tokens

    # --- files ---------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary to ``path`` as UTF-8 JSON (Korean stays readable)."""
        data = {"format": "lmlib.Vocab", "version": 1, "itos": list(self._itos)}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        data = read_json(path, "Vocab.save", format="lmlib.Vocab")
        try:
            return cls(data.get("itos"))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: {err}") from None


# ---------------------------------------------------------------------------
# the one tokenizer interface: text <-> model ids
# ---------------------------------------------------------------------------

class TokenizerBase(SpecialIds):
    """What every lmlib tokenizer that gives model ids does, with the same signatures.

    A subclass says how to split text (``tokens``, ``_encode``), how to join ids back
    (``_decode``), how big its vocabulary is, and how to look up one token; the checks,
    the special ids, ``<s>``/``</s>`` and skipping special tokens live here once.
    """

    files: tuple[str, ...] = ()  # what save writes into its folder

    # --- what a subclass provides ------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """Number of ids, the special tokens included."""
        raise NotImplementedError

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` as the vocabulary holds them, one per id of ``encode(text)``
        (``[id_to_token(i) for i in encode(text)]``)."""
        raise NotImplementedError

    def _encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def _decode(self, ids: list[int]) -> str:
        raise NotImplementedError

    def _id_to_token(self, id: int) -> str:
        raise NotImplementedError

    def _lookup(self, token: str) -> int | None:
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        """Write the tokenizer into the folder ``path`` (created if needed)."""
        raise NotImplementedError

    # --- the interface -----------------------------------------------------------

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The ids of ``text`` (unknown words: ``<unk>``), with ``<s>`` / ``</s>`` if asked."""
        ids = self._encode(_check_text(text))
        return ([self.bos_id] if check_bool(add_bos, "add_bos") else []) + ids + \
            ([self.eos_id] if check_bool(add_eos, "add_eos") else [])

    def encode_batch(self, texts: Iterable[str], add_bos: bool = False, add_eos: bool = False,
                     progress: bool = False) -> list[list[int]]:
        """``[encode(t) for t in texts]`` (shown with a progress bar if ``progress``)."""
        texts = _check_texts(texts)
        if check_bool(progress, "progress"):
            from tqdm.auto import tqdm
            texts = tqdm(texts, desc="encoding")
        return [self.encode(t, add_bos, add_eos) for t in texts]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        """Turn ids back into text; ``skip_special`` drops the specials except ``<unk>``."""
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise TypeError(f"ids must be a list of ints, got {type(ids).__name__}")
        ids = [check_token_id(i, f"ids[{k}]", self.vocab_size) for k, i in enumerate(ids)]
        if check_bool(skip_special, "skip_special"):
            ids = [i for i in ids if i not in _SKIPPED_IDS]
        return self._decode(ids)

    def id_to_token(self, id: int) -> str:
        """The token with id ``id``; an id outside 0..vocab_size-1 raises ValueError."""
        return self._id_to_token(check_token_id(id, "id", self.vocab_size))

    def token_to_id(self, token: str) -> int:
        """The id of the vocabulary entry ``token`` (a token, not text: use encode for text);
        a token outside the vocabulary raises ValueError."""
        index = self._lookup(check_str(token, "token"))
        if index is None:
            raise ValueError(f"token {token!r} is not in the vocabulary; use encode() for text")
        return index


def _check_texts(texts: Any, allow_empty: bool = True) -> list[str]:
    return as_str_list(texts, "texts", allow_empty=allow_empty, what="str sentences")


class WordTokenizer(TokenizerBase):
    """A word-level tokenizer with model ids: a level's ``tokenize`` and a :class:`Vocab`.

    The same interface as the subword ``lmlib.tokenizer.Tokenizer``: ``encode("나는 간다")``
    gives ids, a word outside the vocabulary gives ``<unk>``, ``decode`` gives text back
    (``detokenize`` of the level: eojeol joined by single spaces, characters exactly).
    """

    files = ("word_tokenizer.json",)

    def __init__(self, vocab: Vocab, level: str = "eojeol") -> None:
        if not isinstance(vocab, Vocab):
            raise TypeError(f"vocab must be an lmlib.text.Vocab, got {type(vocab).__name__}")
        if level not in _TOKENIZER_CLASSES:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        self.vocab, self.level = vocab, level
        self._split = get_tokenizer(level)  # morph: loads Kiwi now, not at the first text

    @classmethod
    def train(cls, texts: Iterable[str], level: str = "eojeol", min_freq: int = 1,
              max_size: int | None = None) -> WordTokenizer:
        """Build the vocabulary of ``texts`` tokenized at ``level`` (Vocab.build's rules)."""
        texts = _check_texts(texts, allow_empty=False)
        if level not in _TOKENIZER_CLASSES:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        split = get_tokenizer(level)
        return cls(Vocab.build([split.tokenize(t) for t in texts], min_freq, max_size), level)

    def __repr__(self) -> str:
        return f"WordTokenizer(level={self.level!r}, vocab_size={self.vocab_size})"

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` as the vocabulary holds them (a word outside it: ``<unk>``)."""
        return [self.vocab.itos[i] for i in self._encode(_check_text(text))]

    def _encode(self, text: str) -> list[int]:
        return self.vocab.encode(self._split.tokenize(text))

    def _decode(self, ids: list[int]) -> str:
        return self._split.detokenize([self.vocab.itos[i] for i in ids])

    def _id_to_token(self, id: int) -> str:
        return self.vocab.itos[id]

    def _lookup(self, token: str) -> int | None:
        return self.vocab.stoi.get(token)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``word_tokenizer.json`` (level and vocabulary) into the folder ``path``."""
        folder = check_path(path, "path")
        folder.mkdir(parents=True, exist_ok=True)
        data = {"format": "lmlib.WordTokenizer", "version": 1, "level": self.level,
                "itos": list(self.vocab.itos)}
        (folder / self.files[0]).write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                            encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> WordTokenizer:
        """Read a folder written by :meth:`save`."""
        file = check_path(path, "path") / cls.files[0]
        data = read_json(file, "WordTokenizer.save", format="lmlib.WordTokenizer")
        try:
            return cls(Vocab(data.get("itos")), data.get("level"))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{file}: {err}") from None
