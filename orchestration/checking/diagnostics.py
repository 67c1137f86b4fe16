"""Cut compiler and test output down to what a model can act on, within a fixed budget of characters."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..task import Limits

DIAGNOSTICS_CHARS = 2000
# A line that reports an error: `error:` of gcc, clang, javac and cargo, rustc's `error[E0425]:`, Maven's
# `[ERROR]`, `CMake Error`, Python's `SyntaxError:`; else, failing those, any line saying "error".
_ERROR_LINE = re.compile(r"^.*?(?:\berror(?:\[\w+\])?:|\[ERROR\]|\b(?:CMake |[A-Z]\w*)Error\b)", re.MULTILINE)
_ANY_ERROR = re.compile(r"^.*\berror\b", re.IGNORECASE | re.MULTILINE)
# Lines printed above an error that say where it is: gcc's "In function" and include chain, the frames of a
# Python traceback (file, source line, carets).
_CONTEXT_LINE = re.compile(
    r"^\S.*: (?:In (?:static |member )?(?:function|constructor|destructor|instantiation|substitution|lambda)"
    r"|At global scope)|^In file included from |^\s+from \S+:\d+[:,]|^\S.*:\s+required from "
    r'|^\s+File ".*", line \d+|^\s+\^[\^~]*\s*$|^\s{4}\S'
)


def compiler_excerpt(output: str, limit: int = DIAGNOSTICS_CHARS) -> str:
    """The first errors, from the first line that reports one (with the lines above it that say where,
    such as gcc's "In function"; never the warnings before it), or the head of the output when no
    line does."""
    match = _ERROR_LINE.search(output) or _ANY_ERROR.search(output)
    return head(output[_with_context(output, match.start()) if match else 0 :], limit)


def failure_excerpt(output: str, start: re.Pattern[str] | None, limit: int = DIAGNOSTICS_CHARS) -> str:
    """A failing run's output from the first line `start` matches (the failed assertion, the panic),
    or its tail when there is no such line: runtimes print the cause last."""
    match = start.search(output) if start else None
    if match:
        return head(output[output.rfind("\n", 0, match.start()) + 1 :], limit)
    return tail(output, limit)


def with_output(reason: str, output: str) -> str:
    """A reason for a verdict followed by the head of the run's output, when it printed anything."""
    return f"{reason}\n{head(output, 1500)}".strip() if output.strip() else reason


def out_of_memory_reason(output: str, messages: tuple[str, ...], limits: Limits) -> str | None:
    """Why the run failed when its output holds one of the runtime's out-of-memory `messages`, else None."""
    if any(message in output for message in messages):
        return f"ran out of memory (limit {limits.memory_mb} MB)"
    return None


def head(text: str, limit: int = DIAGNOSTICS_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    kept = text[: cut if cut > limit // 2 else limit]
    return f"{kept}\n[... {len(text) - len(kept)} more characters]"


def tail(text: str, limit: int = DIAGNOSTICS_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.find("\n", len(text) - limit)
    kept = text[cut + 1 if 0 <= cut < len(text) - limit // 2 else len(text) - limit :]
    return f"[... {len(text) - len(kept)} characters before]\n{kept}"


def _with_context(text: str, line_start: int) -> int:
    """Where the error starting at `line_start` starts, with the context lines just above it."""
    while line_start > 0:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        if not _CONTEXT_LINE.match(text[previous : line_start - 1]):
            break
        line_start = previous
    return line_start
