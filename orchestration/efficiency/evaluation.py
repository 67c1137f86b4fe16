"""`perforch eval` on ENAMEL: the pipeline run on each problem with speed measured in-process, then scored.

Per problem: the pipeline runs with an EfficiencyValidator (visible tests for correctness, visible performance
inputs for speed). Solved means the hidden HumanEvalPack tests pass. Then the distinct versions among the
first passing one, the final one, HumanEvalPack's canonical solution and (Python) ENAMEL's expert reference
are timed together, taking turns, on one HIDDEN input per efficiency level, so every speed figure compares
versions that met the same load.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..benchmark import Problem
from ..pipeline import Pipeline
from ..profiling import HONESTY_NOTE, for_each, hidden_validator, visible_validator
from ..run import Result
from ..task import Limits, Outcome, Timing
from ..validation import ProgramValidator, Validator, is_faster, same_code, speedup
from .enamel import EFFICIENCY_LEVELS, EnamelProblem, joined
from .harness import HarnessUnavailable, harness_available, run_versions, unrenderable
from .inputs import HIDDEN_SEED, VISIBLE_SEED, InputsError, PerformanceInputs, performance_inputs
from .validator import BUDGET_MS, RUNS, WARMUPS, EfficiencyValidator

TIMEOUT_FACTOR = 2.0  # eff: a version this many times slower than the expert's slowest level scores 0
SCORING_WALL_SECONDS = 120.0


@dataclass
class EnamelBenchmark:
    """An ENAMEL directory: its problems joined with HumanEvalPack, and the validators that time them."""

    directory: Path
    unmeasured: dict[str, str] = field(default_factory=dict)  # task id -> why its speed cannot be measured

    def problems(self, languages: list[str], limit: int | None = None) -> list[tuple[EnamelProblem, Problem]]:
        return joined(self.directory, languages, limit)

    async def inputs(self, enamel: EnamelProblem) -> tuple[PerformanceInputs, PerformanceInputs]:
        visible = await performance_inputs(enamel, self.directory, VISIBLE_SEED)
        return visible, await performance_inputs(enamel, self.directory, HIDDEN_SEED)

    async def validator(
        self, enamel: EnamelProblem, problem: Problem, correctness: ProgramValidator, limits: Limits
    ) -> EfficiencyValidator | ProgramValidator:
        """Speed measured in-process where the language has a harness that carries the problem's types and
        inputs; elsewhere the plain validator (the reason kept in `unmeasured`)."""
        if not harness_available(problem.language):
            self.unmeasured[problem.task_id] = f"{problem.language}: no in-process timing harness here"
            return correctness
        visible, hidden = await self.inputs(enamel)
        cases = [*visible.cases, *hidden.cases]
        why = unrenderable(problem.language, problem.reference_source, problem.entry_point, cases)
        if why:
            self.unmeasured[problem.task_id] = f"{problem.language}: inputs not rendered: {why}"
            return correctness
        return EfficiencyValidator(correctness, enamel, problem.entry_point, visible, hidden, limits)

    def speed_validators(self, pairs: list[tuple[EnamelProblem, Problem]], limits: Limits):
        """For the profiler: a problem's EfficiencyValidator (None where its inputs could not be made)."""
        by_id = {problem.task_id: enamel for enamel, problem in pairs}

        async def speed(problem: Problem, correctness: ProgramValidator) -> Validator | None:
            try:
                return await self.validator(by_id[problem.task_id], problem, correctness, limits)
            except InputsError:
                return None

        return speed


@dataclass
class ProblemScore:
    task_id: str
    solved: bool = False
    improved: bool = False
    speedup: float | None = None  # first passing version / final version, hidden inputs
    vs_canonical: float | None = None  # canonical solution / final version
    eff: float | None = None  # Python: ENAMEL's efficiency against the expert reference
    expert_vs_canonical: float | None = None  # Python: canonical solution / expert reference
    growth_before: float | None = None  # fitted exponent of time in ENAMEL's size, first passing version
    growth_after: float | None = None
    note: str = ""  # why a figure is missing (inputs not made, timed out, ...)


@dataclass
class LanguageEfficiency:
    problems: list[ProblemScore] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cost_usd: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # of the priced calls

    def as_dict(self) -> dict:
        solved = [p for p in self.problems if p.solved]
        speedups = [p.speedup for p in solved if p.speedup]
        versus = [p.vs_canonical for p in solved if p.vs_canonical]
        effs = [p.eff or 0.0 for p in self.problems] if any(p.eff is not None for p in self.problems) else []
        return {
            "total": len(self.problems),
            "solved": len(solved),
            "pass@1": _share(len(solved), len(self.problems)),
            "improved": sum(p.improved for p in solved),
            "improved_share": _share(sum(p.improved for p in solved), len(solved)),
            "mean_speedup": _round(statistics.fmean(speedups)) if speedups else None,
            "median_speedup": _round(statistics.median(speedups)) if speedups else None,
            "median_vs_canonical": _round(statistics.median(versus)) if versus else None,
            "eff@1": _round(statistics.fmean(effs)) if effs else None,
            "growth_before": _median([p.growth_before for p in solved]),
            "growth_after": _median([p.growth_after for p in solved]),
            "tokens_per_stage": dict(self.tokens),
            "cost_usd_per_stage": {stage: round(cost, 6) for stage, cost in self.cost_usd.items()},
            "problems": [vars(p) for p in self.problems],
        }


async def score_problem(
    benchmark: EnamelBenchmark,
    enamel: EnamelProblem,
    problem: Problem,
    pipeline: Pipeline,
    visible: ProgramValidator,
    hidden: ProgramValidator,
    limits: Limits,
    threshold: float,
) -> tuple[ProblemScore, Result | None]:
    score = ProblemScore(problem.task_id)
    try:
        validator = await benchmark.validator(enamel, problem, visible, limits)
    except InputsError as exc:
        score.note = str(exc)
        return score, None
    result = await pipeline.run(problem.task(), validator)
    if result.source is None or not (await hidden.check(result.source)).passed:
        return score, result
    score.solved = True
    if not isinstance(validator, EfficiencyValidator):
        score.note = f"{benchmark.unmeasured.get(problem.task_id, problem.language)}; speed not measured"
        return score, result
    first = result.first_passing_source or result.source
    versions = _distinct([first, result.source, problem.reference_source])
    if problem.language == "python":
        versions = _distinct([*versions, enamel.reference_source])
    try:
        timings = await _timed_together(validator, versions, limits)
    except HarnessUnavailable as exc:
        score.note = str(exc)
        return score, result
    if timings is None:
        score.note = "timed out or failed on the hidden performance inputs"
        return score, result
    before, after = timings[_index(versions, first)], timings[_index(versions, result.source)]
    score.improved = is_faster(before, after, threshold)
    score.speedup = speedup(before, after)
    score.vs_canonical = speedup(timings[_index(versions, problem.reference_source)], after)
    sizes = [c.size for c in validator.hidden.at_levels(EFFICIENCY_LEVELS, per_level=1)]
    score.growth_before, score.growth_after = growth_exponent(sizes, before), growth_exponent(sizes, after)
    if problem.language == "python":
        expert = timings[_index(versions, enamel.reference_source)]
        score.eff = 0.0 if after.cut_off_ns else None if expert.cut_off_ns else efficiency(after, expert)
        score.expert_vs_canonical = speedup(timings[_index(versions, problem.reference_source)], expert)
    return score, result


async def _timed_together(validator: EfficiencyValidator, versions: list[str], limits: Limits) -> list[Timing] | None:
    runs = await run_versions(
        validator.language,
        validator.problem,
        versions,
        validator.entry_point,
        validator.hidden.at_levels(EFFICIENCY_LEVELS, per_level=1),
        warmups=WARMUPS,
        runs=RUNS,
        limits=Limits(wall_seconds=SCORING_WALL_SECONDS, memory_mb=limits.memory_mb, output_bytes=256 << 20),
        budget_ms=BUDGET_MS,
    )
    if all(run.passed for run in runs):
        return [run.timing for run in runs]
    if any(run.outcome is not Outcome.TIMEOUT for run in runs):
        return None  # a wrong result or a crash: nothing to compare
    if len(versions) == 1:
        return [runs[0].timing]  # cut off: its deadline is a lower bound on its time
    # Together past the deadline: each alone, so one slow version cannot leave the others unmeasured.
    timings = []
    for version in versions:
        alone = await _timed_together(validator, [version], limits)
        if alone is None:
            return None
        timings.extend(alone)
    return timings


def _distinct(sources: list[str]) -> list[str]:
    kept: list[str] = []
    for source in sources:
        if not any(same_code(source, k) for k in kept):
            kept.append(source)
    return kept


def _index(versions: list[str], source: str) -> int:
    return next(i for i, v in enumerate(versions) if same_code(v, source))


def growth_exponent(sizes: list[int], timing: Timing) -> float | None:
    """The slope of log(time) against log(size) over the levels (least squares): 1 linear, 2 quadratic."""
    points = [
        (math.log(size), math.log(statistics.median(calls)))
        for size, calls in zip(sizes, timing.call_ns, strict=False)
        if size > 0 and calls and statistics.median(calls) > 0
    ]
    if len(points) < 2 or len({x for x, _ in points}) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return round(slope, 2)


def efficiency(candidate: Timing, reference: Timing) -> float:
    """ENAMEL's eff for one sample: per level, max(0, T - t) / (T - t_ref) with T = TIMEOUT_FACTOR times the
    reference's slowest level; averaged over the efficiency levels (ENAMEL's hardness weights 0, 1, 1, 1)."""
    ref = [statistics.median(calls) for calls in reference.call_ns]
    own = [statistics.median(calls) for calls in candidate.call_ns]
    timeout = TIMEOUT_FACTOR * max(ref)
    levels = [max(0.0, timeout - t) / (timeout - r) for t, r in zip(own, ref, strict=True) if timeout > r]
    return round(statistics.fmean(levels), 4) if levels else 0.0


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _round(value: float) -> float:
    return round(value, 3)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


@dataclass
class EfficiencyReport:
    languages: dict[str, LanguageEfficiency]
    tokens: int
    cost_usd: float
    mode: str

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "benchmark": "enamel",
            "languages": {lang: score.as_dict() for lang, score in self.languages.items()},
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "note": HONESTY_NOTE
            + "; speed is timed in-process on hidden ENAMEL inputs (one per efficiency level), versions taking turns",
        }


async def evaluate_efficiency(
    benchmark: EnamelBenchmark,
    pairs: list[tuple[EnamelProblem, Problem]],
    pipeline: Pipeline,
    limits: Limits,
    mode: str,
    threshold: float,
    progress: Callable[[str], None] | None = None,
) -> EfficiencyReport:
    async def one(pair: tuple[EnamelProblem, Problem]) -> tuple[Problem, ProblemScore, Result | None]:
        enamel, problem = pair
        visible, hidden = visible_validator(problem, limits), hidden_validator(problem, limits)
        score, result = await score_problem(benchmark, enamel, problem, pipeline, visible, hidden, limits, threshold)
        return problem, score, result

    languages: dict[str, LanguageEfficiency] = defaultdict(LanguageEfficiency)
    tokens, cost = 0, 0.0
    for problem, score, result in await for_each(pairs, one, progress):
        language = languages[problem.language]
        language.problems.append(score)
        if result is not None:
            tokens, cost = tokens + result.tokens, cost + result.cost_usd
            for stage, count in result.tokens_by_stage.items():
                language.tokens[stage] += count
            for stage, dollars in result.cost_by_stage.items():
                language.cost_usd[stage] += dollars
    return EfficiencyReport(dict(languages), tokens, cost, mode)
