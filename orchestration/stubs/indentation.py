"""Moving a block of code from one indentation to another without changing what it means."""

from __future__ import annotations

from tree_sitter import Node

from .trees import Parsed, lone_string


def reindent(text: str, old: str, new: str, protected: frozenset[int] = frozenset()) -> str:
    """`text` (whose first line starts at its code, the others at column 0) moved from indent `old` to `new`.

    Lines whose index is in `protected` are inside a multi-line string literal: moving them would change
    the string, so they stay as they are.
    """
    if old == new:
        return text
    lines = text.split("\n")
    return "\n".join(line if n == 0 or n in protected else _moved(line, old, new) for n, line in enumerate(lines))


def moved(parsed: Parsed, start: int, end: int, indent: str) -> str:
    """The code in [start, end) re-indented from its own line's indentation to `indent`."""
    return reindent(parsed.text(start, end), parsed.indent_at(start), indent, string_lines(parsed, start, end))


def _moved(line: str, old: str, new: str) -> str:
    if not line.strip():
        return ""
    common = 0
    while common < len(old) and common < len(line) and line[common] == old[common]:
        common += 1
    return new + line[common:]


def string_lines(parsed: Parsed, start: int, end: int) -> frozenset[int]:
    """Lines (counted from the line of `start`) that begin inside a multi-line string literal in [start, end).

    Docstrings are not protected: they follow the code's indentation by convention.
    """
    syntax = parsed.syntax
    first_line = parsed.src.count(b"\n", 0, start)
    protected: set[int] = set()
    stack = [parsed.root]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end or node.start_point.row == node.end_point.row:
            continue  # outside the block, or on one line: nothing to protect below
        if node.type in syntax.strings and not _is_docstring(node, parsed):
            protected.update(range(node.start_point.row + 1 - first_line, node.end_point.row + 1 - first_line))
        else:
            stack.extend(node.children)
    return frozenset(protected)


def _is_docstring(string: Node, parsed: Parsed) -> bool:
    return string.parent is not None and lone_string(string.parent, parsed.syntax) == string
