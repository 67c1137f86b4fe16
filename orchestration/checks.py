"""Checks of one setting's value, shared by perforch.toml (config.py) and the editor's settings (the server):
each returns the value, or raises Invalid saying what was expected. Where the value came from, and whether it may
be shown, is the caller's to say."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Invalid(Exception):
    """A value of the wrong shape; `expected` (also its str) completes "expected ...", e.g. "a positive integer"."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def integer(minimum: int, expected: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise Invalid(expected)
        return value

    return check


def number(minimum: float, expected: str, *, inclusive: bool) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(expected)
        if value < minimum or (value == minimum and not inclusive):
            raise Invalid(expected)
        return float(value)

    return check


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a non-empty string")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("true or false")
    return value


def names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise Invalid("a list of model names")
    return tuple(value)


def one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise Invalid(" or ".join(f'"{choice}"' for choice in choices))
        return str(value)

    return check


positive_int = integer(1, "a positive integer")
count = integer(0, "a non-negative integer")


def string(value: Any) -> str:
    """Any string, the empty one included (an editor setting left blank means its default)."""
    if not isinstance(value, str):
        raise Invalid("a string")
    return value
