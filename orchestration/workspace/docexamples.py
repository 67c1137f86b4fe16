"""Examples in a doc comment, read as tests: `>>> f(x)` with the expected value on the next line
(Python's doctest style), or a line `f(x) == y` in any language. The languages turn them into code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ..languages import SPECS

_PROMPT = ">>> "


@dataclass(frozen=True)
class Example:
    call: str  # an expression calling the function, as written
    expected: str  # the value it should equal, as written


def doc_examples(doc: str, function: str) -> list[Example]:
    """Every example of `function` in the doc comment `doc`, in order, without duplicates."""
    lines = [_plain(line) for line in doc.splitlines()]
    found = _doctest_examples(lines, function) + _equality_examples(lines, function)
    return list(dict.fromkeys(found))


@cache
def _markup() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Comment and docstring markup at the start and at the end of a line, in any language; the longest
    token first, so that `/**` is taken whole rather than as `/*`."""
    openers = {token for spec in SPECS.values() for token in spec.doc_comment_openers}
    closers = {token for spec in SPECS.values() for token in spec.doc_comment_closers}
    leading = "|".join(re.escape(token) for token in sorted(openers, key=lambda t: (-len(t), t)))
    trailing = "|".join(re.escape(token) for token in sorted(closers, key=lambda t: (-len(t), t)))
    return re.compile(rf"^\s*(?:{leading}|)\s?"), re.compile(rf"\s*(?:{trailing})\s*$")


def _plain(line: str) -> str:
    leading, trailing = _markup()
    line = trailing.sub("", leading.sub("", line, count=1))
    line = line.strip()
    if len(line) > 1 and line.startswith("`") and line.endswith("`"):
        line = line.strip("`").strip()
    return line.rstrip(";").strip()


def _calls(expression: str, function: str) -> bool:
    return (
        re.search(rf"(?<![\w.]){re.escape(function)}\s*\(", expression) is not None
        or re.search(rf"\.{re.escape(function)}\s*\(", expression) is not None
    )


def _doctest_examples(lines: list[str], function: str) -> list[Example]:
    examples = []
    for index, line in enumerate(lines):
        if not line.startswith(_PROMPT.strip()) or not _calls(line, function):
            continue
        call = line[len(_PROMPT.strip()) :].strip()
        expected = []
        for following in lines[index + 1 :]:
            if not following or following.startswith((">>>", "...")):
                break
            expected.append(following)
        if expected and not expected[0].startswith("Traceback"):
            examples.append(Example(call, " ".join(expected)))
    return examples


def _equality_examples(lines: list[str], function: str) -> list[Example]:
    examples = []
    for line in lines:
        if line.startswith(">>>"):
            continue
        split = _last_top_level_equality(line)
        if split is None:
            continue
        call, expected = _call_at_end(line[:split], function), line[split + 2 :].strip()
        if call and expected:
            examples.append(Example(call, expected))
    return examples


def _call_at_end(text: str, function: str) -> str | None:
    """The call expression that `text` ends with, from its (qualified) name: prose before it is dropped,
    as in `Count the words. countWords("a b") == 2`."""
    for match in re.finditer(rf"(?<![\w.])[\w.]*\b{re.escape(function)}\s*\(", text):
        call = text[match.start() :].strip()
        if call.endswith(")") and _balanced(call):
            return call
    return None


def _balanced(expression: str) -> bool:
    depth = 0
    for char in _without_strings(expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _without_strings(text: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', text)


def _last_top_level_equality(line: str) -> int | None:
    """The offset of the last `==` outside brackets and string literals, if any."""
    depth, quote, found = 0, "", None
    index = 0
    while index < len(line):
        char = line[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif line.startswith("==", index) and depth == 0 and line[index + 2 : index + 3] != "=":
            found = index
            index += 1
        index += 1
    return found
