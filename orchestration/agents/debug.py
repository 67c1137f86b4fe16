"""Debug agent: repair a candidate from its visible failure (compiler diagnostics or a failing test)."""

from __future__ import annotations

from ..redaction import cap, excerpt
from .answer import context, fenced, rules

_MAX_DIAGNOSTICS = 2000
_MAX_CANDIDATE = 16_000  # characters of the version being repaired: a runaway answer is not sent back whole


def build_messages(
    language: str,
    source: str,
    entry_point: str,
    candidate: str,
    failure: str,
    visible_test: str,
    statement: str = "",
) -> list[dict]:
    """`statement`: a problem told in words (Task.statement; its examples are its visible tests)."""
    candidate = cap(candidate, _MAX_CANDIDATE)
    test_part = f"The tests it must pass:\n{fenced(language, visible_test)}\n\n" if visible_test.strip() else ""
    what = "solution" if statement else f"function `{entry_point}`"
    shown, whole = context(language, source, statement)
    return [
        {"role": "system", "content": f"You are an expert {language} debugger. {rules(statement)}"},
        {
            "role": "user",
            "content": (
                f"The {what} below is wrong.\n\n{shown}\n\nThe current implementation:\n"
                f"{fenced(language, candidate)}\n\n{test_part}What went wrong:\n```text\n{trim(failure)}\n```\n\n"
                f"Fix it. Return the complete corrected {whole}."
            ),
        },
    ]


def trim(failure: str) -> str:
    """The failure as the next model may see it: no secret, the head and tail of long output."""
    return excerpt(failure.strip(), _MAX_DIAGNOSTICS) or "(no output)"
