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
"""

from __future__ import annotations

import json
import operator
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

PAD = "<pad>"
UNK = "<unk>"
BOS = "<s>"
EOS = "</s>"
CLS = "[CLS]"
SEP = "[SEP]"
MASK = "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS, CLS, SEP, MASK)

SPACE_TOKEN = "▁"  # U+2581 "lower one eighth block": a space the reader can see
LEVELS = ("eojeol", "char", "morph", "english")


# ---------------------------------------------------------------------------
# input checks shared by the tokenizers and the vocabulary
# ---------------------------------------------------------------------------

def _check_text(text: Any) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return text


def _check_tokens(tokens: Any, name: str = "tokens") -> list[str]:
    # A bare string is iterable, so without this check "안녕" would quietly become ["안", "녕"].
    if isinstance(tokens, str):
        raise TypeError(
            f"{name} must be a list of str tokens, got a single str {tokens[:30]!r}; "
            "tokenize the text first"
        )
    if not isinstance(tokens, Iterable):
        raise TypeError(f"{name} must be a list of str tokens, got {type(tokens).__name__}")
    tokens = list(tokens)
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise TypeError(
                f"{name}[{i}] must be a str token, got {type(token).__name__} ({token!r})"
            )
    return tokens


def _check_int(name: str, value: Any, minimum: int) -> int:
    # bool is a subclass of int; True as a size is almost certainly a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return value


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

class Vocab:
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
        """Return the id of ``token``, or the <unk> id if it is not in the vocabulary."""
        if not isinstance(token, str):
            raise TypeError(f"token must be a str, got {type(token).__name__}")
        return self._stoi.get(token, self.unk_id)

    def id_to_token(self, id: int) -> str:
        """Return the token with id ``id``; an id outside 0..len-1 raises ValueError."""
        return self._itos[self._check_id(id, "id")]

    def _check_id(self, id: Any, name: str) -> int:
        # bool is an int to Python, but True as an id is a mistake, not the token 1.
        try:
            if isinstance(id, bool):
                raise TypeError
            index = operator.index(id)  # accepts numpy/torch integers, rejects floats
        except TypeError:
            raise TypeError(f"{name} must be an int, got {type(id).__name__} ({id!r})") from None
        # Negative ids are refused too: Python's [-1] would silently give the last token.
        if not 0 <= index < len(self._itos):
            where = "" if name == "id" else f"{name}: "
            raise ValueError(f"{where}id {index} is out of range for a vocabulary of size {len(self)}")
        return index

    # --- special ids ---------------------------------------------------------

    @property
    def pad_id(self) -> int:
        """Id of <pad>."""
        return self._stoi[PAD]

    @property
    def unk_id(self) -> int:
        """Id of <unk>."""
        return self._stoi[UNK]

    @property
    def bos_id(self) -> int:
        """Id of <s> (beginning of sentence)."""
        return self._stoi[BOS]

    @property
    def eos_id(self) -> int:
        """Id of </s> (end of sentence)."""
        return self._stoi[EOS]

    @property
    def cls_id(self) -> int:
        """Id of [CLS]."""
        return self._stoi[CLS]

    @property
    def sep_id(self) -> int:
        """Id of [SEP]."""
        return self._stoi[SEP]

    @property
    def mask_id(self) -> int:
        """Id of [MASK]."""
        return self._stoi[MASK]

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
        tokens = [self._itos[self._check_id(i, f"ids[{k}]")] for k, i in enumerate(ids)]
        if skip_special:
            dropped = set(SPECIAL_TOKENS) - {UNK}
            tokens = [t for t in tokens if t not in dropped]
        return tokens

    # --- files ---------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary to ``path`` as UTF-8 JSON (Korean stays readable)."""
        data = {"format": "lmlib.Vocab", "version": 1, "itos": list(self._itos)}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: path must be a file written by Vocab.save")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not a JSON vocabulary file: {err}") from err
        if not isinstance(data, dict) or data.get("format") != "lmlib.Vocab" or "itos" not in data:
            raise ValueError(f"{path} is not a vocabulary written by Vocab.save")
        return cls(data["itos"])
