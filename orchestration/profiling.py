"""`perforch profile` (benchmark runs -> a ranking matrix) and `perforch eval` (pass@1, speed-ups, cost).

Both score correctness on the hidden `test`; models only ever see the visible test (`example_test`, or the
build-only substitute where a dataset has none, see LanguageSpec.build_only_test). The profiler asks each model
on its own instead of routing, but reads, splices, checks and judges an answer as the pipeline does
(candidates.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from .agents import categorize, debug, generate, refine
from .benchmark import KNOWN_FLAKY, Problem
from .candidates import Candidate, checked, judged, shown
from .models import ModelError, ModelGateway
from .pipeline import Pipeline
from .rankings.matrix import Provenance, RankedModel, RankingMatrix
from .run import Result
from .stubs import find_function, splice
from .task import ANY_CATEGORY, Limits, Verdict
from .validation import ProgramValidator, Validator

# Given a problem and its hidden-test validator, the validator that times refinements (or None).
SpeedValidator = Callable[[Problem, ProgramValidator], Awaitable[Validator | None]]

HONESTY_NOTE = (
    "models saw only the visible tests (example_test, or a build-only check where the dataset has none); "
    "pass@1 is scored on the hidden tests"
)

# Problems in flight at once: enough to overlap model latency with builds, few enough to bound memory.
_IN_FLIGHT = 8


def hidden_validator(problem: Problem, limits: Limits) -> ProgramValidator:
    return ProgramValidator(problem.language, problem.hidden_test, problem.test_setup, limits)


def visible_validator(problem: Problem, limits: Limits, runs: int = 5) -> ProgramValidator:
    return ProgramValidator(problem.language, problem.visible_test, problem.test_setup, limits, runs)


async def for_each(items: Iterable, work: Callable[..., Awaitable], progress: Callable[[str], None] | None = None):
    """Run `work(item)` over items with a bounded number in flight; results in input order."""
    gate = asyncio.Semaphore(_IN_FLIGHT)
    items = list(items)
    done = 0

    async def one(item):
        nonlocal done
        async with gate:
            value = await work(item)
        done += 1
        if progress:
            progress(f"{done}/{len(items)}")
        return value

    return await asyncio.gather(*(one(item) for item in items))


# -- eval --------------------------------------------------------------------------------------------


@dataclass
class LanguageScore:
    total: int = 0
    solved: int = 0
    improved: int = 0
    speedups: list[float] = field(default_factory=list)
    unsolved: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "solved": self.solved,
            "pass@1": round(self.solved / self.total, 4) if self.total else 0.0,
            "improved": self.improved,
            "median_speedup": round(statistics.median(self.speedups), 3) if self.speedups else None,
            "unsolved": self.unsolved,
            "known_flaky": self.flaky,
        }


@dataclass
class EvalReport:
    languages: dict[str, LanguageScore]
    tokens: int
    cost_usd: float
    mode: str

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "languages": {lang: score.as_dict() for lang, score in self.languages.items()},
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "note": HONESTY_NOTE,
        }


async def evaluate(problems: list[Problem], pipeline: Pipeline, limits: Limits, mode: str, progress=None) -> EvalReport:
    async def one(problem: Problem) -> tuple[Problem, Result, Verdict | None]:
        result = await pipeline.run(problem.task(), visible_validator(problem, limits))
        hidden = None
        if result.source is not None:
            hidden = await hidden_validator(problem, limits).check(result.source)
        return problem, result, hidden

    outcomes = await for_each(problems, one, progress)
    scores: dict[str, LanguageScore] = defaultdict(LanguageScore)
    tokens, cost = 0, 0.0
    for problem, result, hidden in outcomes:
        score = scores[problem.language]
        score.total += 1
        tokens, cost = tokens + result.tokens, cost + result.cost_usd
        if problem.task_id in KNOWN_FLAKY:
            score.flaky.append(problem.task_id)
        if hidden is not None and hidden.passed:
            score.solved += 1
            if result.speedup and result.speedup > 1.0:
                score.improved += 1
                score.speedups.append(result.speedup)
        else:
            score.unsolved.append(problem.task_id)
    return EvalReport(dict(scores), tokens, cost, mode)


# -- profile -----------------------------------------------------------------------------------------


@dataclass
class SuccessCounts:
    """Per (stage, language, category, model): successes out of samples."""

    hits: Counter = field(default_factory=Counter)
    samples: Counter = field(default_factory=Counter)

    def add(self, stage: str, language: str, category: str, model: str, ok: bool) -> None:
        for cat in {category, ANY_CATEGORY}:
            key = (stage, language, cat, model)
            self.samples[key] += 1
            self.hits[key] += int(ok)

    def matrix(self, provenance: Provenance) -> RankingMatrix:
        matrix = RankingMatrix(provenance=provenance)
        cells: dict[tuple[str, str, str], list[RankedModel]] = defaultdict(list)
        for (stage, language, cat, model), n in self.samples.items():
            cells[(stage, language, cat)].append(
                RankedModel(model, round(self.hits[(stage, language, cat, model)] / n, 4), n)
            )
        for (stage, language, cat), ranking in cells.items():
            matrix.set(stage, language, cat, ranking)
        return matrix


class Profiler:
    """Runs every model on every stage of every problem and tallies how often each one succeeds."""

    def __init__(
        self,
        gateway: ModelGateway,
        models: list[str],
        limits: Limits,
        threshold: float,
        speed: SpeedValidator | None = None,
    ) -> None:
        """`speed`: for a benchmark that measures speed in-process (ENAMEL), the validator that times and judges
        refinements of a problem, given its hidden-test validator (None: time the hidden tests' runs)."""
        self.gateway, self.models, self.limits, self.threshold = gateway, models, limits, threshold
        self.speed = speed
        self.counts = SuccessCounts()

    async def profile(self, problems: list[Problem], benchmark: str, progress=None) -> RankingMatrix:
        await for_each(problems, self._problem, progress)
        provenance = Provenance(
            benchmark=benchmark,
            date=dt.date.today().isoformat(),
            models=tuple(self.models),
            metric=(
                "categorize: agreement with the models' plurality category; generate: pass rate on hidden tests; "
                "debug: share of failing programs (buggy_solution, failed drafts) fixed, judged on hidden tests; "
                "refine: share of passing programs made measurably faster and still correct"
            ),
        )
        return self.counts.matrix(provenance)

    async def _problem(self, problem: Problem) -> None:
        category = await self._categorize(problem)
        drafts = await asyncio.gather(*(self._generate(problem, category, m) for m in self.models))
        failing = [d for d in drafts if d is not None]
        if problem.buggy_source:
            failing.append(find_function(problem.buggy_source, problem.language, name=problem.entry_point).text)
        for code in failing[:2]:
            await self._debug(problem, category, code)
        await self._refine(problem, category)

    async def _ask(self, model: str, stage: str, messages: list[dict]) -> str | None:
        try:
            return (await self.gateway.complete(model, messages, stage=stage)).text
        except ModelError:
            return None

    async def _categorize(self, problem: Problem) -> str:
        messages = categorize.build_messages(problem.language, problem.stub_source, problem.entry_point)
        answers = await asyncio.gather(*(self._ask(m, "categorize", messages) for m in self.models))
        picks = {
            m: categorize.parse(a, problem.stub_source)
            for m, a in zip(self.models, answers, strict=True)
            if a is not None
        }
        votes = Counter(cat for cat, on_vocabulary in picks.values() if on_vocabulary)
        category = votes.most_common(1)[0][0] if votes else categorize.classify_by_keywords(problem.stub_source)
        for model in self.models:
            agreed = model in picks and picks[model] == (category, True)
            self.counts.add("categorize", problem.language, category, model, agreed)
        return category

    async def _candidate(self, problem: Problem, model: str, stage: str, messages: list[dict]) -> Candidate | None:
        """One model's answer, checked on the hidden tests; None when the model did not answer."""
        answer = await self._ask(model, stage, messages)
        if answer is None:
            return None
        return await checked(problem.task(), answer, model, hidden_validator(problem, self.limits))

    async def _generate(self, problem: Problem, category: str, model: str) -> str | None:
        """Score one generator; return its code when it fails, as a draft for the debuggers."""
        messages = generate.build_messages(problem.language, problem.stub_source, problem.entry_point)
        candidate = await self._candidate(problem, model, "generate", messages)
        passed = candidate is not None and candidate.verdict.passed
        self.counts.add("generate", problem.language, category, model, passed)
        usable = candidate is not None and candidate.source is not None
        return candidate.code if usable and not passed else None

    async def _debug(self, problem: Problem, category: str, code: str) -> None:
        source = splice(problem.stub_source, problem.language, problem.entry_point, code)
        visible = shown(await visible_validator(problem, self.limits).check(source))
        if visible.passed:
            return  # fails only the hidden tests: a debugger could not be shown why
        messages = debug.build_messages(
            problem.language,
            problem.stub_source,
            problem.entry_point,
            code,
            visible.diagnostics,
            problem.visible_test,
        )

        async def one(model: str) -> None:
            fixed = await self._candidate(problem, model, "debug", messages)
            self.counts.add("debug", problem.language, category, model, fixed is not None and fixed.verdict.passed)

        await asyncio.gather(*(one(m) for m in self.models))

    async def _refine(self, problem: Problem, category: str) -> None:
        hidden = hidden_validator(problem, self.limits)
        verdict = await hidden.check(problem.reference_source)
        if not verdict.passed:
            return
        code = find_function(problem.reference_source, problem.language, name=problem.entry_point).text
        baseline = Candidate(code, problem.reference_source, verdict, "")
        timer: Validator = hidden
        if self.speed is not None:
            timer = await self.speed(problem, hidden) or hidden
        baseline_timing = await timer.measure(baseline.source)
        describe = getattr(timer, "describe", None)
        speed = describe(baseline_timing) if describe else refine.speed_note(baseline_timing.median)
        messages = refine.build_messages(problem.language, problem.stub_source, problem.entry_point, code, speed)
        for model in self.models:
            candidate = await self._candidate(problem, model, "refine", messages)
            faster = False
            if candidate is not None and candidate.verdict.passed:
                faster = (await judged(baseline, baseline_timing, candidate, timer, self.threshold)).kept
            self.counts.add("refine", problem.language, category, model, faster)
