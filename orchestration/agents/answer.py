"""What every code-writing agent asks of a model, and how its answer becomes code."""

from __future__ import annotations

from ..stubs import extract_code_block

ANSWER_RULES = (
    "Answer with the complete function (signature and body) in one fenced code block. You may add the imports "
    "and helper functions it needs. Do not include tests, a main function or example usage."
)
# A task told as a problem statement (Task.statement): the answer is the whole submission, as the problem asks.
SUBMISSION_RULES = (
    "Answer with the complete solution in one fenced code block: the whole program when the problem reads "
    "standard input, otherwise the given starter code completed. Do not include example usage or tests."
)


def rules(statement: str) -> str:
    return SUBMISSION_RULES if statement else ANSWER_RULES


def fenced(language: str, code: str) -> str:
    return f"```{language}\n{code.rstrip()}\n```"


def code_from_answer(answer: str, language: str) -> str:
    """The code in a model's answer; raises stubs.AnswerError when there is none."""
    return extract_code_block(answer, language)


def context(language: str, source: str, statement: str) -> tuple[str, str]:
    """(what the model is shown around the code, what it must answer with): the problem told in words, or
    the file the function belongs to."""
    if statement:
        return f"The problem:\n{statement}", "solution"
    return f"The file it belongs to:\n{fenced(language, source)}", "function"
