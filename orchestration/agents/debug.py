"""Debug agent: repair a candidate from its visible failure (compiler diagnostics or a failing test)."""

from __future__ import annotations

from ..redaction import cap, excerpt
from .answer import ANSWER_RULES, fenced

_MAX_DIAGNOSTICS = 2000
_MAX_CANDIDATE = 16_000  # characters of the version being repaired: a runaway answer is not sent back whole


def build_messages(
    language: str, source: str, entry_point: str, candidate: str, failure: str, visible_test: str
) -> list[dict]:
    candidate = cap(candidate, _MAX_CANDIDATE)
    test_part = f"The tests it must pass:\n{fenced(language, visible_test)}\n\n" if visible_test.strip() else ""
    return [
        {"role": "system", "content": f"You are an expert {language} debugger. {ANSWER_RULES}"},
        {
            "role": "user",
            "content": (
                f"The function `{entry_point}` below is wrong.\n\nThe file it belongs to:\n"
                f"{fenced(language, source)}\n\nThe current implementation:\n{fenced(language, candidate)}\n\n"
                f"{test_part}What went wrong:\n```text\n{trim(failure)}\n```\n\n"
                "Fix it. Return the complete corrected function."
            ),
        },
    ]


def trim(failure: str) -> str:
    """The failure as the next model may see it: no secret, the head and tail of long output."""
    return excerpt(failure.strip(), _MAX_DIAGNOSTICS) or "(no output)"
