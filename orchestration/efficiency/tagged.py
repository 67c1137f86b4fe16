"""Python values as a self-describing stream: the PVS tokens of EFFICIENCY_PROTOCOL.md, each value preceded
by a one-letter tag, because a Python function's types are not always declared (the typed languages read
plain PVS with their declaration's types instead).

Tags: `i` int (hexadecimal: Python parses it in linear time and without the decimal digit limit, so huge
answers such as HumanEval/8's products read back), `f` float, `b` bool, `s` string (`<bytes>:<raw>`),
`n` None, `l` list, `t` tuple, `S` set, `d` dict (`<count>` then key, value, ...). A stream is values
separated by single spaces.

This module is also copied, as is, next to the harness and judge scripts in the sandbox (they import it from
there), so it imports nothing but the standard library. Decoding builds only these types: a stream written by
untrusted code can make a wrong value, never run code; `decode_all` refuses streams over `max_bytes`.
"""

from __future__ import annotations

import math

MAX_DEPTH = 200  # nesting deeper than any dataset value; a hostile stream cannot exhaust the stack


class StreamError(ValueError):
    pass


def encode(value: object, out: list[bytes]) -> None:
    """Append `value`'s tokens to `out`; StreamError for a type outside the tags."""
    if value is None:
        out.append(b"n")
    elif value is True or value is False:
        out.append(b"b1" if value else b"b0")
    elif isinstance(value, int):
        out.append(b"i%x" % value)
    elif isinstance(value, float):
        out.append(b"f" + repr(value).encode())
    elif isinstance(value, str):
        raw = value.encode("utf-8", "surrogatepass")
        out.append(b"s%d:" % len(raw) + raw)
    elif isinstance(value, (list, tuple, set, frozenset)):
        tag = b"l" if isinstance(value, list) else b"t" if isinstance(value, tuple) else b"S"
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        out.append(tag + b"%d" % len(items))
        for item in items:
            encode(item, out)
    elif isinstance(value, dict):
        out.append(b"d%d" % len(value))
        for key, item in value.items():
            encode(key, out)
            encode(item, out)
    else:
        raise StreamError(f"cannot encode a value of type {type(value).__name__}")


def encode_all(values: list) -> bytes:
    out: list[bytes] = []
    for value in values:
        encode(value, out)
    return b" ".join(out)


def decode_all(data: bytes, max_bytes: int | None = None) -> list:
    """Every value of the stream; StreamError when it is malformed or larger than `max_bytes`."""
    if max_bytes is not None and len(data) > max_bytes:
        raise StreamError(f"stream of {len(data)} bytes is over the {max_bytes}-byte limit")
    reader = _Reader(data)
    values = []
    while reader.more():
        values.append(reader.value(0))
    return values


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def more(self) -> bool:
        while self.pos < len(self.data) and self.data[self.pos] in b" \n":
            self.pos += 1
        return self.pos < len(self.data)

    def _token(self) -> bytes:
        if not self.more():
            raise StreamError("stream ends in the middle of a value")
        end = self.pos
        while end < len(self.data) and self.data[end] not in b" \n":
            end += 1
        token, self.pos = self.data[self.pos : end], end
        return token

    def _count(self, text: bytes) -> int:
        if not text.isdigit():
            raise StreamError(f"bad count {text[:20]!r} at byte {self.pos}")
        return int(text)

    def value(self, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise StreamError(f"values nested deeper than {MAX_DEPTH}")
        if not self.more():
            raise StreamError("stream ends in the middle of a value")
        tag = self.data[self.pos : self.pos + 1]
        if tag == b"s":
            return self._string()
        token = self._token()
        body = token[1:]
        try:
            if tag == b"i":
                return int(body, 16)
            if tag == b"f":
                return _float(body)
        except ValueError as exc:
            raise StreamError(f"bad number {token[:40]!r}") from exc
        if tag == b"b" and body in (b"0", b"1"):
            return body == b"1"
        if tag == b"n" and not body:
            return None
        if tag in (b"l", b"t", b"S"):
            items = [self.value(depth + 1) for _ in range(self._count(body))]
            return items if tag == b"l" else tuple(items) if tag == b"t" else _set(items)
        if tag == b"d":
            pairs = [(self.value(depth + 1), self.value(depth + 1)) for _ in range(self._count(body))]
            try:
                return dict(pairs)
            except TypeError as exc:
                raise StreamError("a dict key that cannot be hashed") from exc
        raise StreamError(f"unknown token {token[:20]!r} at byte {self.pos}")

    def _string(self) -> str:
        colon = self.data.find(b":", self.pos)
        if colon < 0:
            raise StreamError("string without a length")
        length = self._count(self.data[self.pos + 1 : colon])
        start = colon + 1
        if start + length > len(self.data):
            raise StreamError("string runs past the end of the stream")
        self.pos = start + length
        return self.data[start : self.pos].decode("utf-8", "surrogatepass")


def _float(body: bytes) -> float:
    text = body.decode("ascii")
    if text in ("inf", "-inf", "nan"):
        return float(text)
    value = float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


def _set(items: list) -> set:
    try:
        return set(items)
    except TypeError as exc:
        raise StreamError("a set item that cannot be hashed") from exc
