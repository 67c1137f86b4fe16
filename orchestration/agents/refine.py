"""Refine agent: make passing code faster without changing what it computes."""

from __future__ import annotations

from .answer import ANSWER_RULES, fenced


def build_messages(
    language: str, source: str, entry_point: str, candidate: str, cpu_seconds: float, *, own_time: bool = False
) -> list[dict]:
    """`own_time`: `cpu_seconds` is the function's own time in its tests, not the CPU time of whole test runs."""
    measured = (
        f"It spends {cpu_seconds * 1000:.3f} ms in its own calls during its tests"
        if own_time
        else f"Its tests take {cpu_seconds * 1000:.1f} ms of CPU time"
    )
    return [
        {"role": "system", "content": f"You are an expert in {language} performance. {ANSWER_RULES}"},
        {
            "role": "user",
            "content": (
                f"This implementation of `{entry_point}` is correct. {measured}."
                f"\n\nThe file it belongs to:\n{fenced(language, source)}\n\n"
                f"The implementation:\n{fenced(language, candidate)}\n\n"
                "Make it faster (better algorithm, fewer allocations, cheaper operations) while keeping its "
                "behaviour identical for every input. Return the complete function."
            ),
        },
    ]
