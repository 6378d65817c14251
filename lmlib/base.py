"""Argument checks every public lmlib function shares: one wording, one place.

Each check names the argument, says what was expected and what came instead, and returns
the value in the form the caller works with. (lmlib's older modules still carry their own
copies of some of these; new code uses these.)
"""

from __future__ import annotations

from collections.abc import Iterable


def _short(x: object, limit: int = 40) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def as_str_list(value: object, name: str, allow_empty: bool = False) -> list[str]:
    """`value` as a list of str items; a single str is refused (iterating it would give its
    characters, a silently wrong answer)."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of strings, got the str {_short(value)}; "
                        f"wrap one item in a list ([{_short(value)}]) or split it first")
    if not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of strings, got {type(value).__name__}")
    items = list(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(item).__name__} {_short(item)}")
    if not items and not allow_empty:
        raise ValueError(f"{name} is empty; expected at least one string")
    return items


def check_int(value: object, name: str, low: int | None = None, allow_none: bool = False):
    """`value` must be an int (not a bool) >= low, or None where allow_none; returns it."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        bound = f" >= {low}" if low is not None else ""
        also = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an int{bound}{also}, got {_short(value)}")
    return value
