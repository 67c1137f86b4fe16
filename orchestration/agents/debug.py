"""Debug agent: repair a candidate from its visible failure (compiler diagnostics or a failing test)."""

from __future__ import annotations

from .answer import ANSWER_RULES, fenced

_MAX_DIAGNOSTICS = 2000


def build_messages(
    language: str, source: str, entry_point: str, candidate: str, failure: str, visible_test: str
) -> list[dict]:
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
    """Keep the head of long output, where compilers and test runners put the first error."""
    failure = failure.strip() or "(no output)"
    if len(failure) <= _MAX_DIAGNOSTICS:
        return failure
    return failure[:_MAX_DIAGNOSTICS] + "\n… (output trimmed)"
