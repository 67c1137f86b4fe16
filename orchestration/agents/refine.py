"""Refine agent: make passing code faster without changing what it computes."""

from __future__ import annotations

from .answer import ANSWER_RULES, fenced


def build_messages(language: str, source: str, entry_point: str, candidate: str, cpu_seconds: float) -> list[dict]:
    return [
        {"role": "system", "content": f"You are an expert in {language} performance. {ANSWER_RULES}"},
        {
            "role": "user",
            "content": (
                f"This implementation of `{entry_point}` is correct. Its tests take {cpu_seconds * 1000:.1f} ms "
                f"of CPU time.\n\nThe file it belongs to:\n{fenced(language, source)}\n\n"
                f"The implementation:\n{fenced(language, candidate)}\n\n"
                "Make it faster (better algorithm, fewer allocations, cheaper operations) while keeping its "
                "behaviour identical for every input. Return the complete function."
            ),
        },
    ]
