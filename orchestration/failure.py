"""Why a run proposes nothing, as data a client can act on: the tests failed before any model was asked, no
model answered (and what the provider said: a missing key, an unreachable server), or every answer failed the
tests (and the compiler's or tests' output, with the failing candidate to show). A leaf over run.py."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .redaction import excerpt
from .run import Attempt, Result

# Attempt statuses that are a model call's failure (models.ErrorKind) rather than a candidate's verdict.
MODEL_ERRORS = frozenset(
    {"unknown_model", "unreachable", "rate_limited", "server_error", "timeout", "empty_answer", "auth", "bad_request",
     "budget_exceeded"}
)  # fmt: skip


@dataclass(frozen=True)
class Cause:
    """kind: "tests_fail_before", a model error kind (MODEL_ERRORS), or the failing candidate's outcome
    (compile_error, test_failed, timeout, resource_limit, invalid); `candidate` is that candidate's whole file."""

    kind: str
    message: str  # one line, naming the model when one is to blame
    stage: str = ""
    model: str = ""
    output: str = ""  # the compiler's, tests' or provider's own words, redacted and cut
    candidate: str | None = None

    def as_json(self) -> dict:
        return asdict(self)


def cause_of(result: Result, original: str) -> Cause | None:
    """Why `result` passed nothing; None when it passed."""
    if result.passed:
        return None
    validation = next((a for a in result.trace if a.stage == "validate"), None)
    if validation is not None and validation.status != "passed":
        message = f"the function's tests do not pass as it stands ({validation.status}), so no model was asked"
        return Cause("tests_fail_before", message, "validate", output=excerpt(validation.detail))
    if not any(a.status == "answered" for a in result.trace):
        return _model_failure(result.trace)
    return _candidate_failure(result, original)


def _model_failure(trace: list[Attempt]) -> Cause:
    failed = [a for a in trace if a.status in MODEL_ERRORS and a.stage != "categorize"] or [
        a for a in trace if a.status in MODEL_ERRORS
    ]
    if not failed:
        return Cause("no_model", "no model was asked")
    first = failed[0]  # the best-ranked model's failure; the trace has the others
    line = _first_line(first.detail).removeprefix(f"model {first.model!r}: ") or first.status
    message = f"{first.model}: {line}" if first.model else line
    others = len({a.model for a in failed}) - 1
    if others:
        message += f" (and {others} other model{'s' if others > 1 else ''} failed too; see the trace)"
    return Cause(first.status, message, first.stage, first.model, excerpt(first.detail, 500))


def _candidate_failure(result: Result, original: str) -> Cause:
    verdict = result.verdict
    outcome = verdict.outcome.value if verdict is not None else "invalid"
    blamed = next((a for a in result.trace if a.status == outcome), None)
    model = blamed.model if blamed else ""
    first = _telling_line(verdict.diagnostics) if verdict is not None else ""
    what = outcome.replace("_", " ")
    message = f"{model + ': ' if model else ''}{what}" + (f": {first}" if first else "")
    candidate = result.source if result.source is not None and result.source != original else None
    output = excerpt(verdict.diagnostics) if verdict is not None else ""
    return Cause(outcome, message, blamed.stage if blamed else "", model, output, candidate)


# In a test run's output, the line that says what went wrong: pytest's `E   NameError: ...`, an exception,
# Rust's panic, Go's `--- FAIL`; a compiler's output says it on its first line.
_TELLING = re.compile(r"^\s*E\s+\S|Error\b|panicked|^\s*--- FAIL|error(\[\w+\])?:|FAILED|AssertionFailed")


def _telling_line(output: str) -> str:
    lines = [line.strip() for line in excerpt(output, 2000).splitlines() if line.strip()]
    telling = next((line for line in lines if _TELLING.search(line)), lines[0] if lines else "")
    return telling.removeprefix("E").strip() if telling.startswith("E ") else telling


def _first_line(detail: str) -> str:
    lines = [line for line in excerpt(detail, 500).splitlines() if line.strip()]
    return lines[0].strip() if lines else ""
