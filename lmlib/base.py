"""lmlib's ground floor: what every module shares, in one place, with one wording.

* Argument checks (as_str_list, check_int, check_token_id, check_special_ids): each names
  the argument, says what was expected and what came instead, and returns the value in the
  form the caller works with. (lmlib's older modules still carry their own copies of some
  of these; new code uses these.)
* eval_mode / train_mode: a model's mode set for a block and restored after, even on errors.
* Padding: pad_batch (id lists -> one right-padded tensor) and length_mask.
* The special tokens (SPECIAL_TOKENS: <pad> <unk> <s> </s> [CLS] [SEP] [MASK]) and their
  ids 0..6 (PAD_ID ... MASK_ID), which every vocabulary and model config of the book uses.

No lecture idea lives here, and importing it imports no torch (the torch helpers import
it when called), so every module, the torch-free n-gram ones too, can build on it.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager


# The special tokens every vocabulary of the book starts with, and so their ids (0..6).
PAD, UNK, BOS, EOS, CLS, SEP, MASK = "<pad>", "<unk>", "<s>", "</s>", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS, CLS, SEP, MASK)
PAD_ID, UNK_ID, BOS_ID, EOS_ID, CLS_ID, SEP_ID, MASK_ID = range(len(SPECIAL_TOKENS))


def _short(x: object, limit: int = 40) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def as_str_list(value: object, name: str, allow_empty: bool = False, hint: str | None = None,
                what: str = "strings") -> list[str]:
    """`value` as a list of str items; a single str is refused (iterating it would give its
    characters, a silently wrong answer). `hint` replaces the advice given for a single str;
    `what` names the items in the messages ("tokens", "sentences")."""
    if type(value) is list or type(value) is tuple:  # the common case, without the slower checks
        items = list(value)
    else:
        if isinstance(value, str):
            advice = hint or f"wrap one item in a list ([{_short(value)}]) or split it first"
            raise TypeError(f"{name} must be a list of {what}, got the str {_short(value)}; "
                            f"{advice}")
        # A dict would silently give its keys: refused. (A set is taken, in its own order.)
        if not isinstance(value, Iterable) or isinstance(value, Mapping):
            raise TypeError(f"{name} must be a list of {what}, got {type(value).__name__}")
        items = list(value)
    if not set(map(type, items)) <= {str}:  # the fast check; the loop names the culprit
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise TypeError(f"{name}[{i}] must be a str, got {type(item).__name__} "
                                f"{_short(item)}")
    if not items and not allow_empty:
        raise ValueError(f"{name} is empty; expected at least one string")
    return items


def check_int(value: object, name: str, low: int | None = None, allow_none: bool = False):
    """`value` must be an int >= low (a numpy/torch integer too, never a bool or a float),
    or None where allow_none; returns it as an int. The one rule of lmlib's checks: a value
    of the wrong type is a TypeError, a value of the right type outside its range a
    ValueError, and both messages say the same thing."""
    if value is None and allow_none:
        return None
    bound = f" >= {low}" if low is not None else ""
    also = " or None" if allow_none else ""
    try:
        if isinstance(value, bool):  # an int to Python, but True as a size or id is a mistake
            raise TypeError
        number = operator.index(value)  # ints, numpy and torch integers; never a float
    except TypeError:
        raise TypeError(f"{name} must be an int{bound}{also}, got {type(value).__name__} "
                        f"{_short(value)}") from None
    if low is not None and number < low:
        raise ValueError(f"{name} must be an int{bound}{also}, got {_short(value)}")
    return number


def check_str(value: object, name: str = "text") -> str:
    """`value` must be a str; returns it."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {_short(value)}")
    return value


def check_float(value: object, name: str, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """`value` must be a finite real number (not a bool) in [low, high] (an open end where
    low_open / high_open); returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {_short(value)}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {_short(value)}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {_short(value)}")
    return float(value)


def check_token_id(value: object, name: str, vocab_size: int, vocab: str = "vocab_size",
                   allow_none: bool = False):
    """`value` must be an id of a vocabulary of `vocab_size` ids, an int in [0, vocab_size)
    (or None where allow_none: "the model has no such token"); returns it as an int.
    `vocab` names the size in the message (e.g. "tgt_vocab_size"). A negative id is refused
    too: Python's [-1] would silently give the last token."""
    value = check_int(value, name, low=0, allow_none=allow_none)
    if value is not None and value >= vocab_size:
        also = " or None" if allow_none else ""
        raise ValueError(f"{name}={value} is not a valid id for {vocab}={vocab_size}: expected "
                         f"an int in [0, {vocab_size}){also}")
    return value


def check_special_ids(config: object, names: Sequence[str], vocab: str = "vocab_size",
                      allow_none: bool = False) -> None:
    """The one check of a config's special ids (pad_id, bos_id, eos_id, mask_id, cls_id, ...).

    Each config.<name> must be an id of the vocabulary of config.<vocab> ids (check_token_id;
    None allowed where allow_none), and no two of them may be the same id. Every error
    names the field.
    """
    ids = {name: check_token_id(getattr(config, name), name, getattr(config, vocab), vocab,
                                allow_none) for name in names}
    seen: dict[int, str] = {}
    for name, value in ids.items():
        if value is None:
            continue
        if value in seen:
            raise ValueError(f"{seen[value]} and {name} must differ, both are {value}")
        seen[value] = name


# -- train/eval mode -------------------------------------------------------------------------

@contextmanager
def _modes(modules: tuple, training: bool, caller: str) -> Iterator[None]:
    from torch import nn  # here, not at the top: importing lmlib.base imports no torch

    if not modules:
        raise TypeError(f"{caller}() needs at least one torch.nn.Module")
    for i, m in enumerate(modules):
        if not isinstance(m, nn.Module):
            raise TypeError(f"{caller}: modules[{i}] must be a torch.nn.Module, got "
                            f"{type(m).__name__}")
    # Every submodule's own flag, not just the top one: a model may hold a part in another mode.
    saved = {id(sub): (sub, sub.training) for m in modules for sub in m.modules()}
    try:
        for m in modules:
            m.train(training)
        yield
    finally:
        for m in reversed(modules):
            m.train(saved[id(m)][1])  # train() itself, for a module that overrides it
        for sub, was in saved.values():
            if sub.training != was:  # a part that was in another mode than its parent
                sub.training = was


def eval_mode(*modules):
    """Context manager: the modules in eval mode (dropout off) inside; on the way out, even
    on an exception, every module and submodule gets back the mode it had.

        with eval_mode(model), torch.no_grad():
            logits = model(x)

    Nested and repeated uses are safe (each restores what it found). It sets the mode only;
    gradients are the caller's choice (torch.no_grad()). Usable as a decorator too:
    @eval_mode(model) on a function.
    """
    return _modes(modules, False, "eval_mode")


def train_mode(*modules):
    """Like eval_mode, with the modules in training mode inside (what training.fit uses)."""
    return _modes(modules, True, "train_mode")


# -- padding ---------------------------------------------------------------------------------

def check_int_ids(seq: Sequence[object], name: str) -> None:
    """Every item of `seq` (an id list) must be an int, not a bool or a float (a float id would
    be truncated silently); TypeError naming `name` and the item otherwise."""
    if all(type(x) is int for x in seq):  # the fast check; the loop names the culprit
        return
    for x in seq:
        if isinstance(x, bool) or not isinstance(x, numbers.Integral):
            raise TypeError(f"{name} must hold int token ids, got {type(x).__name__} {x!r} "
                            f"(a float id would be truncated silently)")


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = 0):
    """Right-pad id lists to one length -> ids (B, L) LongTensor, lengths (B,) LongTensor."""
    import torch

    if isinstance(seqs, (torch.Tensor, str)) or not isinstance(seqs, Sequence):
        raise TypeError(f"seqs must be a non-empty list of id lists, e.g. [[5, 6], [7]], got "
                        f"{type(seqs).__name__}")
    if not seqs:
        raise ValueError("seqs must be a non-empty list of id lists, e.g. [[5, 6], [7]], got []")
    check_int(pad_id, "pad_id", low=0)
    for i, s in enumerate(seqs):
        if isinstance(s, (torch.Tensor, str)) or not isinstance(s, Sequence):
            raise TypeError(f"seqs[{i}] must be a list of int token ids, got {type(s).__name__} "
                            f"{_short(s)}")
    seqs = [list(s) for s in seqs]
    for i, s in enumerate(seqs):
        check_int_ids(s, f"seqs[{i}]")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)  # (B,)
    ids = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)  # (B, L)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, lengths


def length_mask(lengths, S: int | None = None):
    """Bool (B, S) mask from sequence lengths (B,): True at the real (non-pad) positions.

    S defaults to the longest length. lmlib.attention.padding_mask is this, shaped
    (B, 1, 1, S) for attention scores; BERT's attention_mask is it as 0/1.
    """
    import torch

    if not isinstance(lengths, torch.Tensor) or lengths.dim() != 1 or lengths.is_floating_point():
        got = f"shape {tuple(lengths.shape)}, dtype {lengths.dtype}" if isinstance(
            lengths, torch.Tensor) else type(lengths).__name__
        raise ValueError(f"lengths must be a 1-D integer tensor (B,), got {got}")
    if len(lengths) and lengths.min() < 0:
        raise ValueError(f"lengths must be >= 0, got {lengths.tolist()}")
    longest = int(lengths.max()) if len(lengths) else 0
    S = longest if S is None else S
    if isinstance(S, bool) or not isinstance(S, int) or S < longest:
        raise ValueError(f"S must be an int >= lengths.max() = {longest}, got {S!r}")
    return torch.arange(S, device=lengths.device) < lengths[:, None]  # (B, S)


def check_id_tensor(x: object, name: str, vocab_size: int, dims: str = "(B, T)",
                    max_len: int | None = None, batch: tuple[int, str] | None = None) -> None:
    """`x` must be a 2-D LongTensor of token ids in [0, vocab_size), both sizes >= 1: the one
    check of model inputs (gpt, bert, seq2seq, transformer). TypeError for a non-tensor,
    ValueError for a wrong shape, dtype, length (> max_len) or batch size (batch = (size, the
    argument that set it)), or an id outside the vocabulary."""
    import torch

    what = f"{name} must be a {dims} LongTensor of token ids, both sizes >= 1"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what}, got {type(x).__name__}")
    if x.dim() != 2 or x.dtype != torch.long or 0 in x.shape:
        raise ValueError(f"{what}, got {tuple(x.shape)} {x.dtype}")
    if batch is not None and x.size(0) != batch[0]:
        raise ValueError(f"{name} has batch size {x.size(0)}, {batch[1]} has {batch[0]}")
    if max_len is not None and x.size(1) > max_len:
        raise ValueError(f"{name} is too long: sequence length {x.size(1)} exceeds "
                         f"config.max_len={max_len}")
    if x.min() < 0 or x.max() >= vocab_size:
        raise ValueError(f"{name} holds ids in [{int(x.min())}, {int(x.max())}], outside the "
                         f"vocabulary [0, {vocab_size})")


# -- more argument checks (functions, generators, flags, paths, modules) ---------------------

def check_callable(value: object, name: str, allow_none: bool = False, what: str = "a function"):
    """`value` must be callable (or None where allow_none); returns it. TypeError otherwise
    (calling a str or an int later would fail with "object is not callable", naming nothing)."""
    if value is None and allow_none:
        return None
    if not callable(value):
        also = " or None" if allow_none else ""
        raise TypeError(f"{name} must be {what}{also}, got {type(value).__name__} {_short(value)}")
    return value


def check_generator(value: object, name: str = "generator"):
    """`value` must be a torch.Generator or None (torch's global RNG); returns it."""
    if value is None:
        return None
    import torch  # here, not at the top: importing lmlib.base imports no torch

    if not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(value).__name__} "
                        f"{_short(value)}")
    return value


def check_bool(value: object, name: str) -> bool:
    """`value` must be True or False (a str such as "no" would count as true); returns it."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {_short(value)}")
    return value


def check_path(value: object, name: str = "path"):
    """`value` must be a str or os.PathLike naming a file or folder; returns it as a Path."""
    import os
    from pathlib import Path

    if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
        if isinstance(value, str) and not value:
            raise ValueError(f"{name} must name a file or folder, got the empty str")
        return Path(value)
    raise TypeError(f"{name} must be a str or os.PathLike path, got {type(value).__name__} "
                    f"{_short(value)}")


def read_json(file: object, writer: str, format: str | None = None) -> dict:
    """The JSON object in `file`, which `writer` wrote (with `format`: its "format" key must
    say so). A missing file is a FileNotFoundError, a damaged or foreign one a ValueError,
    each naming the file and what to do."""
    import json

    file = check_path(file, "path")
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: expected a file written by {writer}")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as err:  # not JSON (JSONDecodeError) or not UTF-8 (UnicodeDecodeError)
        raise ValueError(f"{file} is not valid JSON ({err}); the file is damaged: write it "
                         f"again with {writer}, or copy it again") from None
    if not isinstance(data, dict) or (format is not None and data.get("format") != format):
        raise ValueError(f"{file} was not written by {writer}")
    return data


def check_module(value: object, name: str = "model"):
    """`value` must be a torch.nn.Module; returns it."""
    from torch import nn  # here, not at the top: importing lmlib.base imports no torch

    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__} "
                        f"{_short(value)}")
    return value


def as_int_list(value: object, name: str, low: int | None = None, high: int | None = None,
                allow_empty: bool = False) -> list[int]:
    """`value` (a list or tuple of ints, or a 1-D integer array/tensor) as a list of Python
    ints, each in [low, high] where given. A str, a float item and a bool item are refused
    (a float id or length would be truncated silently, a str iterated by characters)."""
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()  # numpy array, torch tensor: their items as Python numbers
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of ints, got {type(value).__name__} "
                        f"{_short(value)}")
    items = list(value)
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{name}[{i}] must be an int, got {type(item).__name__} {_short(item)}")
        if (low is not None and item < low) or (high is not None and item > high):
            lo = "-inf" if low is None else low
            hi = "inf" if high is None else high
            raise ValueError(f"{name}[{i}] must be in [{lo}, {hi}], got {item}")
    if not items and not allow_empty:
        raise ValueError(f"{name} is empty; expected at least one int")
    return [int(x) for x in items]
