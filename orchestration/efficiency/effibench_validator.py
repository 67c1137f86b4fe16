"""Benchmark mode on an EffiBench-X problem: a candidate (a whole submission) is checked on the problem's
visible tests only, the ones its prompt shows, and timed as the CPU seconds of the loop that runs it on them;
scoring on every test is effibench_evaluation.py's."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..task import Limits, Timing, Verdict
from .effibench import EffiProblem, run_solution

MEASURE_RUNS = 5  # timed loops per measurement (the program built once)


@dataclass
class EffiBenchValidator:
    problem: EffiProblem
    language: str
    limits: Limits | None = None  # per loop; None: effibench.run_solution's (10 s per test, 120 s to build)
    runs: int = MEASURE_RUNS

    async def check(self, source: str) -> Verdict:
        started = time.perf_counter()
        tests = self.problem.visible_tests()
        run = await run_solution(self.problem, self.language, source, tests, self.limits)
        return Verdict(
            run.outcome,
            run.detail,
            time.perf_counter() - started,
            tests_run=run.tests,
            tests_passed=run.passed_tests,
            tests_source=f"{self.problem.task_id}: its first {len(tests)} tests (the visible ones)",
        )

    async def measure(self, source: str) -> Timing:
        """CPU seconds of each of `runs` loops over the visible tests (empty when the program fails them)."""
        tests = self.problem.visible_tests()
        run = await run_solution(self.problem, self.language, source, tests, self.limits, repeats=self.runs)
        return Timing(cpu_seconds=run.cpu_samples) if run.passed else Timing()

    def describe(self, timing: Timing) -> str:
        """For the refine prompt: what was timed, in words."""
        if not timing.cases:
            return "Its speed on the example tests could not be measured."
        n = len(self.problem.visible_tests())
        return (
            f"Run once per example test ({n} processes, reading standard input), it takes "
            f"{timing.median * 1000:.1f} ms of CPU time in all, process start-up included."
        )
