"""Typed values, the same for every language: the type tree read from a HumanEvalPack declaration, and
the value stream format ("PVS", see EFFICIENCY_PROTOCOL) that carries Python values to a harness program
and its results back.

A language's own package (`languages/<lang>/values.py`) parses its declarations into this tree and renders
literals, readers and writers from it; this module only encodes and decodes on the Python side.

`Any` (Java `Object`, Go `interface{}`, C++ `boost::any`, Rust `Box<dyn Any>`) carries its runtime type in
the stream as efficiency/tagged.py writes Python values: a letter glued to the token (`n`, `b1`, `i5`,
`f1.5`, `s3:abc`, `l2 ...`, `t2 ...`, `S2 ...` (set), `d1 ...`); readers take a set as a list. This
extends the protocol's plain `0`/`1` optional for Go `interface{}`, which cannot say what the value is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..errors import PerfOrchError


class Unrenderable(PerfOrchError):
    """A problem's types, or a value, that a language cannot carry; the message says why."""


@dataclass(frozen=True)
class Int:
    bits: int = 32
    signed: bool = True

    def fits(self, value: int) -> bool:
        if self.signed:
            return -(2 ** (self.bits - 1)) <= value < 2 ** (self.bits - 1)
        return 0 <= value < 2**self.bits


@dataclass(frozen=True)
class Float:
    bits: int = 64


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class Str:
    pass


@dataclass(frozen=True)
class Char:
    """One character (C++ `char`, Go `rune`, Rust `char`); a one-character str in Python."""


@dataclass(frozen=True)
class List:
    item: Type


@dataclass(frozen=True)
class Map:
    key: Type
    value: Type


@dataclass(frozen=True)
class Optional:
    item: Type


@dataclass(frozen=True)
class Tuple:
    items: tuple[Type, ...]


@dataclass(frozen=True)
class Any:
    pass


Type = Int | Float | Bool | Str | Char | List | Map | Optional | Tuple | Any


@dataclass(frozen=True)
class Param:
    name: str
    kind: Type
    text: str  # the type as the language declares it (`&str`, `list_any`): literals need it


@dataclass(frozen=True)
class Signature:
    """A function's parameters in declared order and its return type, read from one language's declaration."""

    name: str
    params: tuple[Param, ...]
    returns: Type
    return_text: str

    @property
    def param_types(self) -> tuple[Type, ...]:
        return tuple(param.kind for param in self.params)


# -- encoding ------------------------------------------------------------------------------------------


def encode_value(kind: Type, value: object) -> bytes:
    """One value as PVS tokens; Unrenderable when it does not fit the type (a str for an int, 2**40 in i32)."""
    return b" ".join(_tokens(kind, value))


def encode_cases(types: Sequence[Type], cases: Sequence[Sequence[object]]) -> bytes:
    """An input file: the number of cases, then each case's arguments in declared order."""
    parts = [str(len(cases)).encode()]
    for case in cases:
        if len(case) != len(types):
            raise Unrenderable(f"a case has {len(case)} arguments, the function takes {len(types)}")
        parts += [encode_value(kind, value) for kind, value in zip(types, case, strict=True)]
    return b"\n".join(parts) + b"\n"


def _tokens(kind: Type, value: object) -> Iterator[bytes]:
    match kind:
        case Bool():
            yield b"1" if _checked(value, bool, kind) else b"0"
        case Int():
            yield str(_int(kind, value)).encode()
        case Float():
            yield _float_token(value)
        case Str():
            yield _str_token(_checked(value, str, kind))
        case Char():
            if not (isinstance(value, str) and len(value) == 1):
                raise Unrenderable(f"{value!r} is not one character")
            yield _str_token(value)
        case List():
            items = _sequence(value, kind)
            yield str(len(items)).encode()
            for item in items:
                yield from _tokens(kind.item, item)
        case Map():
            mapping = _checked(value, dict, kind)
            yield str(len(mapping)).encode()
            for key, item in mapping.items():
                yield from _tokens(kind.key, key)
                yield from _tokens(kind.value, item)
        case Optional():
            yield from [b"0"] if value is None else [b"1", *_tokens(kind.item, value)]
        case Tuple():
            items = _sequence(value, kind)
            if len(items) != len(kind.items):
                raise Unrenderable(f"{value!r} has {len(items)} items, the tuple type {len(kind.items)}")
            for item_kind, item in zip(kind.items, items, strict=True):
                yield from _tokens(item_kind, item)
        case Any():
            yield from _any_tokens(value)


def _any_tokens(value: object) -> Iterator[bytes]:
    if value is None:
        yield b"n"
    elif isinstance(value, bool):
        yield b"b1" if value else b"b0"
    elif isinstance(value, int):
        yield b"i%d" % value
    elif isinstance(value, float):
        yield b"f" + _float_token(value)
    elif isinstance(value, str):
        yield b"s" + _str_token(value)
    elif isinstance(value, list | tuple):
        yield (b"l" if isinstance(value, list) else b"t") + b"%d" % len(value)
        for item in value:
            yield from _any_tokens(item)
    elif isinstance(value, set | frozenset):
        yield b"S%d" % len(value)
        for item in sorted(value, key=repr):
            yield from _any_tokens(item)
    elif isinstance(value, dict):
        yield b"d%d" % len(value)
        for key, item in value.items():
            yield from _any_tokens(key)
            yield from _any_tokens(item)
    else:
        raise Unrenderable(f"a {type(value).__name__} value has no dynamic encoding")


def _checked(value: object, python_type: type, kind: Type) -> object:
    if not isinstance(value, python_type) or (python_type is not bool and isinstance(value, bool)):
        raise Unrenderable(f"{value!r} is not a {python_type.__name__}, as {kind} needs")
    return value


def _int(kind: Int, value: object) -> int:
    return checked_int(kind, value, f"a {'' if kind.signed else 'un'}signed {kind.bits}-bit integer")


def _float_token(value: object) -> bytes:
    return repr(checked_number(value)).encode()


def _str_token(value: str) -> bytes:
    data = value.encode("utf-8", "surrogatepass")
    return str(len(data)).encode() + b":" + data


def _sequence(value: object, kind: Type) -> Sequence[object]:
    if isinstance(value, list | tuple):
        return value
    raise Unrenderable(f"{value!r} is not a list or tuple, as {kind} needs")


# -- decoding ------------------------------------------------------------------------------------------


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def token(self) -> bytes:
        while self.pos < len(self.data) and self.data[self.pos] in b" \t\r\n":
            self.pos += 1
        start = self.pos
        while self.pos < len(self.data) and self.data[self.pos] not in b" \t\r\n:":
            self.pos += 1
        if start == self.pos:
            raise ValueError(f"the value stream ends early (byte {start})")
        return self.data[start : self.pos]

    def string(self) -> str:
        return self.string_body(int(self.token()))

    def string_body(self, length: int) -> str:
        if self.data[self.pos : self.pos + 1] != b":":
            raise ValueError(f"expected ':' after a string length at byte {self.pos}")
        start = self.pos + 1
        self.pos = start + length
        return self.data[start : self.pos].decode("utf-8", "surrogatepass")


def decode_results(kind: Type, data: bytes, count: int) -> list[object]:
    """`count` results of type `kind` from a result file; ValueError when the stream is malformed."""
    stream = _Stream(data)
    return [_decode(kind, stream) for _ in range(count)]


def _decode(kind: Type, stream: _Stream) -> object:
    match kind:
        case Bool():
            return stream.token() == b"1"
        case Int():
            return int(stream.token())
        case Float():
            return float(stream.token())
        case Str() | Char():
            return stream.string()
        case List():
            return [_decode(kind.item, stream) for _ in range(int(stream.token()))]
        case Map():
            return {_decode(kind.key, stream): _decode(kind.value, stream) for _ in range(int(stream.token()))}
        case Optional():
            return _decode(kind.item, stream) if stream.token() == b"1" else None
        case Tuple():
            return tuple(_decode(item, stream) for item in kind.items)
        case Any():
            return _decode_any(stream)
    raise TypeError(kind)


def _decode_any(stream: _Stream) -> object:
    token = stream.token()
    tag, rest = token[:1], token[1:]
    if tag == b"n":
        return None
    if tag == b"b":
        return rest == b"1"
    if tag == b"i":
        return int(rest)
    if tag == b"f":
        return float(rest)
    if tag == b"s":
        return stream.string_body(int(rest))
    if tag in (b"l", b"t", b"S"):
        items = [_decode_any(stream) for _ in range(int(rest))]
        return items if tag == b"l" else tuple(items) if tag == b"t" else set(items)
    if tag == b"d":
        return {_decode_any(stream): _decode_any(stream) for _ in range(int(rest))}
    raise ValueError(f"unknown dynamic tag {tag!r} at byte {stream.pos}")


def shaped_like(value: object, example: object) -> object:
    """`value` with lists turned into tuples where `example` (e.g. the Python reference's answer) has a
    tuple, so a Java `List<Integer>` result compares equal to Python's `(4, 6)`."""
    if isinstance(example, tuple) and isinstance(value, list | tuple):
        return tuple(shaped_like(v, e) for v, e in zip(value, example, strict=False)) + tuple(value[len(example) :])
    if isinstance(example, list) and isinstance(value, list) and example:
        return [shaped_like(v, example[0]) for v in value]
    return value


def is_float_like(kind: Type) -> bool:
    """Whether values of the type hold floats (compared with a tolerance, not ==)."""
    match kind:
        case Float():
            return True
        case List() | Optional():
            return is_float_like(kind.item)
        case Tuple():
            return any(is_float_like(item) for item in kind.items)
        case Map():
            return is_float_like(kind.value)
    return False


def finite(value: float) -> bool:
    return not (math.isinf(value) or math.isnan(value))


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator` outside brackets (<>, (), [], {}): `int, Map<K, V>` -> two parts."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "<([{":
            depth += 1
        elif char in ">)]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    last = text[start:].strip()
    return [*parts, last] if last or parts else []


def generic(text: str) -> tuple[str, list[str]]:
    """`Map<K, V>` -> ("Map", ["K", "V"]); a name without arguments -> (name, [])."""
    text = text.strip()
    if not text.endswith(">") or "<" not in text:
        return text, []
    head, _, inner = text.partition("<")
    return head.strip(), split_top_level(inner[:-1])


def escaped(text: str, unicode_escape: str) -> str:
    """`text` as the body of a C-family string literal; `unicode_escape` formats other code points
    (e.g. "\\\\u{{{:x}}}" for Rust)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(unicode_escape.format(ord(char)))
    return "".join(out)


def parenthesized(text: str, open_at: int) -> tuple[str, str]:
    """The text inside the bracket pair opening at `open_at`, and what follows the closing one."""
    depth = 0
    for index in range(open_at, len(text)):
        depth += text[index] in "(<[{"
        depth -= text[index] in ")>]}"
        if depth == 0:
            return text[open_at + 1 : index], text[index + 1 :]
    raise Unrenderable(f"unbalanced brackets in {text!r}")


def integral(value: object) -> int:
    """An int, or a float with an integral value (Python's `2.0` where the language declares an int)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unrenderable(f"{value!r} is not an int")
    return value


def bool_as_text(value: object) -> object:
    """HumanEvalPack's convention where Python returns a bool inside a result the language types as
    strings (Rust/C++ reverse_delete: `["bcd", "False"]`): the bool as Python prints it."""
    return str(value) if isinstance(value, bool) else value


# -- the checks every language's literals make (languages/<lang>/values.py) ---------------------------


def checked_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise Unrenderable(f"{value!r} is not a bool")
    return value


def checked_int(kind: Int, value: object, type_name: str) -> int:
    """`value` as an int that fits `kind`; `type_name` names the declared type in the message."""
    number = integral(value)
    if not kind.fits(number):
        raise Unrenderable(f"{number} does not fit {type_name}")
    return number


def checked_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unrenderable(f"{value!r} is not a number")
    return float(value)


def checked_str(value: object) -> str:
    """A str, or a bool where the language types a string (see bool_as_text)."""
    value = bool_as_text(value)
    if not isinstance(value, str):
        raise Unrenderable(f"{value!r} is not a str")
    return value


def checked_items(value: object) -> list[object] | tuple[object, ...]:
    if not isinstance(value, list | tuple):
        raise Unrenderable(f"{value!r} is not a list or tuple")
    return value


def checked_dict(value: object) -> dict:
    if not isinstance(value, dict):
        raise Unrenderable(f"{value!r} is not a dict")
    return value


# -- visible tests from examples ----------------------------------------------------------------------

Example = tuple[tuple[object, ...], object]  # (arguments, expected result)


def rendered_examples(examples: Sequence[Example], render: Callable[[Example, int], str]) -> list[str]:
    """Each example as `render(example, number)` renders it (number: 1-based among those rendered), skipping
    those that raise Unrenderable; Unrenderable, with every reason, when none renders."""
    rendered: list[str] = []
    reasons: list[str] = []
    for example in examples:
        try:
            rendered.append(render(example, len(rendered) + 1))
        except Unrenderable as exc:
            reasons.append(str(exc))
    if not rendered:
        raise Unrenderable("no example renders: " + "; ".join(reasons or ["the problem has no examples"]))
    return rendered


def arguments(signature: Signature, args: tuple[object, ...], literal: Callable[[str, object], str]) -> str:
    """An example's arguments as the language's literals of the declared types, comma-separated."""
    if len(args) != len(signature.params):
        raise Unrenderable(f"an example passes {len(args)} arguments, the function takes {len(signature.params)}")
    return ", ".join(literal(p.text, a) for p, a in zip(signature.params, args, strict=True))
