"""The user's own syntax errors: a file that does not parse outside the function to write.

Every candidate is built with the whole file, so an error elsewhere fails them all and would be blamed on the
models. It is found before any model is asked, with where it is: where tree-sitter reports it, trusting only
what each grammar reports reliably (Syntax.trusts_error_nodes); a Python file is compiled too, and CPython
says exactly where (both must agree: the interpreter may be older than the project's Python).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from .syntax import syntax_for
from .trees import Parsed, parse, syntax_errors


@dataclass(frozen=True)
class FileSyntaxError:
    line: int  # 1-based
    column: int  # 1-based, in characters
    text: str  # the line, stripped and shortened
    expected: str = ""  # what the parser expected or says, when it knows


def syntax_error_outside(source: str, language: str, start_byte: int, end_byte: int) -> FileSyntaxError | None:
    """The first syntax error of `source` outside the bytes [start_byte, end_byte) (the function to write)."""
    parsed = parse(syntax_for(language), source)
    inside = [
        error for error in syntax_errors(parsed.root) if start_byte <= error.start_byte <= error.end_byte <= end_byte
    ]
    errors = [error for error in syntax_errors(parsed.root) if error not in inside]  # the function's own are replaced
    errors = [error for error in errors if error.is_missing or parsed.syntax.trusts_error_nodes]
    if not errors:
        return None
    if parsed.syntax.compiles_in_process:  # both must agree: the interpreter may be older than the project
        return _compile_error_outside(parsed, start_byte, end_byte)
    error = errors[0]
    row, byte_column = error.start_point
    line_start = parsed.line_start(error.start_byte)
    column = len(parsed.text(line_start, line_start + byte_column)) + 1
    expected = f"expected `{error.type}`" if error.is_missing else ""
    return FileSyntaxError(row + 1, column, parsed.line_text(error.start_byte), expected)


def _compile_error_outside(parsed: Parsed, start_byte: int, end_byte: int) -> FileSyntaxError | None:
    """CPython's own syntax error, unless it lies in the function to write."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like are the tests' business
            compile(parsed.src, "<file>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 1
        first, last = (parsed.src.count(b"\n", 0, offset) + 1 for offset in (start_byte, end_byte))
        if first <= line <= last:
            return None
        offset = _line_offset(parsed.src, line)
        return FileSyntaxError(line, exc.offset or 1, parsed.line_text(offset), exc.msg)
    except ValueError:  # null bytes: not a syntax error to point at
        return None
    return None


def _line_offset(src: bytes, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = src.find(b"\n", offset) + 1
    return offset
