"""Benchmark mode on an ENAMEL problem: correctness from the problem's visible tests, speed from the
in-process harness on the VISIBLE performance inputs, and a refinement kept only if it also gives the
right results on the HIDDEN performance inputs (never shown to a model)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from ..task import Limits, Outcome, Timing, Verdict
from ..validation import ProgramValidator
from .enamel import EFFICIENCY_LEVELS, EnamelProblem
from .harness import HarnessRun, run_harness, run_versions
from .inputs import Case, PerformanceInputs

WARMUPS, RUNS, BUDGET_MS = 1, 15, 300  # per case; benchmarks/efficiency_noise.py measures this setting
HARNESS_WALL_SECONDS = 120.0  # a first version may be quadratic on the largest inputs


@dataclass
class EfficiencyValidator:
    correctness: ProgramValidator
    problem: EnamelProblem
    entry_point: str
    visible: PerformanceInputs
    hidden: PerformanceInputs
    limits: Limits = Limits()

    @property
    def language(self) -> str:
        return self.correctness.language

    @property
    def timed_cases(self) -> tuple[Case, ...]:
        """One visible input per efficiency level (ENAMEL's levels 1-3), smallest first."""
        return self.visible.at_levels(EFFICIENCY_LEVELS, per_level=1)

    def _harness_limits(self) -> Limits:
        return Limits(
            wall_seconds=max(self.limits.wall_seconds, HARNESS_WALL_SECONDS),
            memory_mb=self.limits.memory_mb,
            output_bytes=max(self.limits.output_bytes, 256 * 1024 * 1024),
            processes=self.limits.processes,
            build_seconds=self.limits.build_seconds,
        )

    async def check(self, source: str) -> Verdict:
        return await self.correctness.check(source)

    async def measure(self, source: str) -> Timing:
        """Its calls timed on the visible performance inputs (empty when a result is wrong; a lower bound when
        the deadline cut it off)."""
        return (await self.single(source)).timing

    async def measure_together(self, start: str, candidate: str) -> tuple[Timing, Timing]:
        """Both versions timed in one harness run, taking turns; the candidate's Timing is empty unless its
        results are right on the visible and the hidden performance inputs."""
        first, second = await run_versions(
            self.language,
            self.problem,
            [start, candidate],
            self.entry_point,
            self.timed_cases,
            warmups=WARMUPS,
            runs=RUNS,
            limits=self._harness_limits(),
            budget_ms=BUDGET_MS,
        )
        if first.outcome is Outcome.TIMEOUT:  # together past the deadline: which one is slow?
            return await self._apart(start, candidate)
        if second.passed and not (await self.check_hidden(candidate)).passed:
            return first.timing, Timing()
        return first.timing, second.timing

    async def _apart(self, start: str, candidate: str) -> tuple[Timing, Timing]:
        """Each version in its own run. A start version cut off by the deadline, against a candidate that
        finishes, is compared through the deadline (a lower bound on its time). When both finish alone, each
        was timed once or twice in a process of its own: too little to tell a gain from noise (a renamed copy
        was once kept as faster), so the candidate is not measured as faster."""
        alone = await self.single(candidate)
        if not alone.passed or not (await self.check_hidden(candidate)).passed:
            return Timing(), Timing()
        before = (await self.single(start)).timing
        return (before, alone.timing) if before.cut_off_ns else (before, Timing())

    async def single(self, source: str) -> HarnessRun:
        return await run_harness(
            self.language,
            self.problem,
            source,
            self.entry_point,
            self.timed_cases,
            warmups=WARMUPS,
            runs=RUNS,
            limits=self._harness_limits(),
            budget_ms=BUDGET_MS,
        )

    async def check_hidden(self, source: str) -> HarnessRun:
        """Its results on every hidden performance input, each called once (nothing timed)."""
        return await run_harness(
            self.language,
            self.problem,
            source,
            self.entry_point,
            self.hidden.cases,
            warmups=0,
            runs=0,
            limits=self._harness_limits(),
        )

    def describe(self, timing: Timing) -> str:
        """For the refine prompt: the function's own time on its slowest visible input, and that input."""
        cases = self.timed_cases
        if timing.cut_off_ns:
            return (
                f"It did not finish its performance inputs (ENAMEL sizes {', '.join(str(c.size) for c in cases)}) "
                f"within {timing.cut_off_ns / 1e9:.0f} s; the largest is {describe_args(cases[-1].args)}."
            )
        if not timing.call_ns or len(timing.call_ns) != len(cases):
            return "Its speed on the performance inputs could not be measured."
        medians = [statistics.median(calls) for calls in timing.call_ns]
        slowest = max(range(len(medians)), key=medians.__getitem__)
        case = cases[slowest]
        return (
            f"Measured in-process, one call takes {medians[slowest] / 1e6:.3f} ms on its slowest performance input "
            f"(ENAMEL size {case.size}: {describe_args(case.args)})."
        )


def describe_args(args: tuple) -> str:
    return ", ".join(_shape(value) for value in args) or "no arguments"


def _shape(value: object) -> str:
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, (list, tuple, set, dict)):
        kinds = sorted({type(item).__name__ for item in list(value)[:100]})
        return f"a {type(value).__name__} of {len(value)} {'/'.join(kinds) or 'items'}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**6:
        return f"an integer of {len(str(abs(value)))} digits"
    return repr(value)[:40]
