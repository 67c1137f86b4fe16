"""Refine agent: make passing code faster without changing what it computes."""

from __future__ import annotations

from .answer import context, fenced, rules


def speed_note(cpu_seconds: float) -> str:
    """What the model is told when only whole test runs were timed."""
    return f"Its tests take {cpu_seconds * 1000:.1f} ms of CPU time."


def build_messages(
    language: str, source: str, entry_point: str, candidate: str, speed: str, statement: str = ""
) -> list[dict]:
    """`speed`: what was measured, e.g. efficiency/validator.py's describe() or speed_note(); `statement`: a
    problem told in words (Task.statement), shown instead of the file."""
    what = "solution to the problem below" if statement else f"implementation of `{entry_point}`"
    shown, whole = context(language, source, statement)
    return [
        {"role": "system", "content": f"You are an expert in {language} performance. {rules(statement)}"},
        {
            "role": "user",
            "content": (
                f"This {what} is correct. {speed}\n\n{shown}\n\n"
                f"The implementation:\n{fenced(language, candidate)}\n\n"
                "Make it faster (better algorithm, fewer allocations, cheaper operations) while keeping its "
                f"behaviour identical for every input. Return the complete {whole}."
            ),
        },
    ]
