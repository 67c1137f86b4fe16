"""The user's own syntax errors: a file that does not parse outside the function to write.

Every candidate is built with the whole file, so an error elsewhere fails them all and would be blamed on the
models. It is found before any model is asked, with where it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from .syntax import syntax_for
from .trees import parse, syntax_errors


@dataclass(frozen=True)
class FileSyntaxError:
    line: int  # 1-based
    column: int  # 1-based, in characters
    text: str  # the line, stripped and shortened
    missing: str = ""  # the token the parser expected, when it knows


def syntax_error_outside(source: str, language: str, start_byte: int, end_byte: int) -> FileSyntaxError | None:
    """The first syntax error of `source` outside the bytes [start_byte, end_byte) (the function to write)."""
    parsed = parse(syntax_for(language), source)
    for error in syntax_errors(parsed.root):
        if start_byte <= error.start_byte and error.end_byte <= end_byte:
            continue  # inside the function to write: its body is replaced anyway
        if not (error.is_missing or parsed.syntax.trusts_error_nodes):
            continue
        row, byte_column = error.start_point
        line_start = parsed.line_start(error.start_byte)
        column = len(parsed.text(line_start, line_start + byte_column)) + 1
        missing = error.type if error.is_missing else ""
        return FileSyntaxError(row + 1, column, parsed.line_text(error.start_byte), missing)
    return None
