"""Generate agent: write the function from its stub."""

from __future__ import annotations

from .answer import ANSWER_RULES, fenced


def build_messages(language: str, source: str, entry_point: str) -> list[dict]:
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
