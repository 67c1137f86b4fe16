"""One attempt's shared path: a model's answer read, spliced into the task's file and checked, and a passing
refinement judged against the version it started from. The pipeline and the profiler both go through here, so
a run and a profile keep and score candidates by the same rules."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .agents.answer import code_from_answer
from .redaction import excerpt
from .stubs import AnswerError, SpliceError, splice
from .task import Outcome, Task, Timing, Verdict
from .validation import Validator, is_faster, same_code, speedup


@dataclass(frozen=True)
class Candidate:
    code: str  # the function as the model wrote it (the whole answer when it could not be read)
    source: str | None  # the whole file with it spliced in; None when it could not be spliced
    verdict: Verdict
    model: str


async def checked(task: Task, answer: str, model: str, validator: Validator) -> Candidate:
    """The answer's code spliced into the task's file and checked; INVALID, and not run, when the answer has no
    usable code or the code cannot be spliced. A task told as a statement takes the code as it is: the answer
    is the whole submission."""
    try:
        code = code_from_answer(answer, task.language)
        source = code if task.statement else splice(task.source, task.language, task.entry_point, code)
    except (AnswerError, SpliceError) as exc:
        return Candidate(answer, None, Verdict(Outcome.INVALID, str(exc)), model)
    return Candidate(code, source, shown(await validator.check(source)), model)


def shown(verdict: Verdict) -> Verdict:
    """A verdict whose diagnostics may be shown to a user or the next model: no secret, a few KiB at most."""
    return replace(verdict, diagnostics=excerpt(verdict.diagnostics))


@dataclass(frozen=True)
class Refinement:
    kept: bool  # measurably faster than the version it started from
    detail: str  # "unchanged code", or the measured gain ("1.23x")
    speedup: float | None = None  # None when it was not timed
    timing: Timing | None = None


async def judged(
    start: Candidate, start_timing: Timing, candidate: Candidate, validator: Validator, threshold: float
) -> Refinement:
    """Whether a passing refinement of `start` is kept: the same code is not (timing it would only let noise call
    it faster); other code is timed, and kept only when faster beyond the threshold and the noise. A validator
    that can time both versions together (efficiency/validator.py) does, so both meet the same load."""
    assert candidate.source is not None and start.source is not None, "only a passing version is refined"
    if same_code(candidate.source, start.source):
        return Refinement(False, "unchanged code")
    together = getattr(validator, "measure_together", None)
    if together is not None:
        start_timing, timing = await together(start.source, candidate.source)
        if not timing.cases:
            return Refinement(False, "wrong results on the performance inputs, or not measurable", None, timing)
    else:
        timing = await validator.measure(candidate.source)
    gain = speedup(start_timing, timing)
    return Refinement(is_faster(start_timing, timing, threshold), f"{gain:.2f}x", gain, timing)
