"""Cut compiler and test output down to what a model can act on, within a fixed budget of characters."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..task import Limits

DIAGNOSTICS_CHARS = 2000
_FIRST_ERROR = re.compile(r"^.*\berror\b", re.IGNORECASE | re.MULTILINE)


def compiler_excerpt(output: str, limit: int = DIAGNOSTICS_CHARS) -> str:
    """The first errors, starting one line before the first line that says "error" (the line above
    usually names the function), or the head of the output when no line does."""
    match = _FIRST_ERROR.search(output)
    start = _start_of_previous_line(output, match.start()) if match else 0
    return head(output[start:], limit)


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


def _start_of_previous_line(text: str, position: int) -> int:
    line_start = text.rfind("\n", 0, position) + 1
    return text.rfind("\n", 0, max(line_start - 1, 0)) + 1 if line_start else 0
