"""How the pipeline checks a candidate file: a Validator builds and tests it, and can time it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .checking import get_toolchain
from .task import Limits, Program, Timing, Verdict


class Validator(Protocol):
    async def check(self, source: str) -> Verdict: ...

    async def measure(self, source: str) -> Timing: ...


@dataclass
class ProgramValidator:
    """Runs a candidate file against one test program with the language's toolchain (benchmark mode)."""

    language: str
    test: str
    test_setup: str = ""
    limits: Limits = Limits()
    runs: int = 5

    def _program(self, source: str) -> Program:
        return Program(self.language, source, self.test, self.test_setup)

    async def check(self, source: str) -> Verdict:
        return await get_toolchain(self.language).build_and_test(self._program(source), self.limits)

    async def measure(self, source: str) -> Timing:
        return await get_toolchain(self.language).measure(self._program(source), self.limits, self.runs)


def speedup(baseline: Timing, candidate: Timing) -> float:
    return baseline.median / candidate.median if candidate.median > 0 else 1.0


def is_faster(baseline: Timing, candidate: Timing, threshold: float) -> bool:
    """Faster only when the median gain reaches the threshold and every candidate run beats every
    baseline run, so a gain inside the run-to-run noise never counts."""
    before, after = _run_totals(baseline), _run_totals(candidate)
    if not before or not after:
        return False
    return speedup(baseline, candidate) >= threshold and max(after) < min(before)


def _run_totals(timing: Timing) -> tuple[float, ...]:
    """Seconds of each run: of the whole run, or of the function's own calls in it (summed over cases)."""
    return timing.cpu_seconds or tuple(sum(run) for run in zip(*timing.cases, strict=True))


def same_code(a: str, b: str) -> bool:
    """Equal but for whitespace: such a "refinement" cannot be faster, so it is not timed (timing it
    would only let noise call it faster)."""
    return a.split() == b.split()
