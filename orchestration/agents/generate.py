"""Generate agent: write the function from its stub (or the solution to a problem statement)."""

from __future__ import annotations

from .answer import ANSWER_RULES, SUBMISSION_RULES, fenced


def build_messages(language: str, source: str, entry_point: str, statement: str = "") -> list[dict]:
    """`statement`: a problem told in words (Task.statement), asked instead of the file's stub."""
    if statement:
        system = f"You are an expert {language} programmer. {SUBMISSION_RULES}"
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": f"Solve this problem in {language}.\n\n{statement}"},
        ]
    return [
        {"role": "system", "content": f"You are an expert {language} programmer. {ANSWER_RULES}"},
        {
            "role": "user",
            "content": (
                f"Implement the function `{entry_point}` in this {language} file, following its signature and "
                f"doc comment exactly.\n\n{fenced(language, source)}"
            ),
        },
    ]
