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
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from .agents import categorize, debug, generate, refine
from .benchmark import KNOWN_FLAKY, Problem
from .candidates import Candidate, checked, judged, shown
from .errors import FailedError
from .models import ModelError, ModelGateway, Usage
from .pipeline import Pipeline
from .rankings.matrix import Provenance, RankedModel, RankingMatrix
from .results import ResultsStore
from .stubs import find_function, splice
from .task import ANY_CATEGORY, Limits
from .validation import ProgramValidator, Validator

# Given a problem and its hidden-test validator, the validator that times refinements (or None).
SpeedValidator = Callable[[Problem, ProgramValidator], Awaitable[Validator | None]]

HONESTY_NOTE = (
    "models saw only the visible tests (example_test; where the dataset has none, one made from the Python "
    "examples, else a build-only check); "
    "pass@1 is scored on the hidden tests"
)


class ProfileStopped(FailedError):
    """A token budget or dollar cap ended the profile before it was complete."""


# Problems in flight at once: enough to overlap model latency with builds, few enough to bound memory.
IN_FLIGHT = 8


def hidden_validator(problem: Problem, limits: Limits) -> ProgramValidator:
    return ProgramValidator(problem.language, problem.hidden_test, problem.test_setup, limits)


def visible_validator(problem: Problem, limits: Limits, runs: int = 5) -> ProgramValidator:
    return ProgramValidator(problem.language, problem.visible_test, problem.test_setup, limits, runs)


OnRecord = Callable[[dict], None]
UnitWork = Callable[[Problem], Awaitable[dict]]


async def for_each(
    items: Iterable, work: Callable[..., Awaitable], on_done: Callable | None = None, in_flight: int = IN_FLIGHT
):
    """Run `work(item)` over items with a bounded number in flight; results in input order."""
    gate = asyncio.Semaphore(in_flight)

    async def one(item):
        async with gate:
            value = await work(item)
        if on_done:
            on_done(value)
        return value

    return await asyncio.gather(*(one(item) for item in items))


async def run_units(
    problems: list[Problem],
    work: UnitWork,
    store: ResultsStore,
    on_record: OnRecord | None = None,
    in_flight: int = IN_FLIGHT,
) -> list[dict]:
    """Every problem's record, in problem order: from the store when an earlier run finished it, otherwise
    from `work`, stored the moment it finishes (so a killed run loses only the problems in flight)."""

    async def one(problem: Problem) -> dict:
        record = await work(problem)
        store.add(problem.task_id, record)
        return record

    pending = [p for p in problems if p.task_id not in store.records]
    await for_each(pending, one, on_record, in_flight)
    return [store.records[p.task_id] for p in problems]


# -- eval --------------------------------------------------------------------------------------------


@dataclass
class LanguageScore:
    total: int = 0
    solved: int = 0
    improved: int = 0
    speedups: list[float] = field(default_factory=list)
    unsolved: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    tokens: int = 0
    cost_usd: float = 0.0  # of the priced calls
    unpriced_calls: int = 0
    tokens_per_stage: dict[str, int] = field(default_factory=dict)
    cost_per_stage: dict[str, float] = field(default_factory=dict)

    def add_stages(self, record: dict) -> None:
        """A record's tokens and dollars per stage (none in a store written before they were kept)."""
        for stage, tokens in record.get("tokens_per_stage", {}).items():
            self.tokens_per_stage[stage] = self.tokens_per_stage.get(stage, 0) + tokens
        for stage, dollars in record.get("cost_per_stage", {}).items():
            self.cost_per_stage[stage] = self.cost_per_stage.get(stage, 0.0) + dollars

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "solved": self.solved,
            "pass@1": round(self.solved / self.total, 4) if self.total else 0.0,
            "improved": self.improved,
            "median_speedup": round(statistics.median(self.speedups), 3) if self.speedups else None,
            "unsolved": self.unsolved,
            "known_flaky": self.flaky,
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "unpriced_calls": self.unpriced_calls,
            "tokens_per_stage": self.tokens_per_stage,
            "cost_per_stage": {stage: round(dollars, 6) for stage, dollars in self.cost_per_stage.items()},
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


async def evaluate_problem(problem: Problem, pipeline: Pipeline, limits: Limits) -> dict:
    """One problem through the pipeline, scored on its hidden tests: the record eval_report reads."""
    result = await pipeline.run(problem.task(), visible_validator(problem, limits))
    hidden = None
    if result.source is not None:
        hidden = await hidden_validator(problem, limits).check(result.source)
    return {
        "task_id": problem.task_id,
        "language": problem.language,
        "solved": hidden is not None and hidden.passed,
        "speedup": result.speedup,
        "tokens": result.tokens,
        "cost_usd": result.cost_usd,
        "unpriced_calls": result.unpriced_calls,
        "tokens_per_stage": result.tokens_by_stage,
        "cost_per_stage": result.cost_by_stage,
    }


def eval_report(records: Iterable[dict], mode: str) -> EvalReport:
    """The report of a set of problem records (fresh, resumed or read back from a results store)."""
    scores: dict[str, LanguageScore] = defaultdict(LanguageScore)
    tokens, cost = 0, 0.0
    for record in records:
        score = scores[record["language"]]
        score.total += 1
        tokens, cost = tokens + record["tokens"], cost + record["cost_usd"]
        score.tokens, score.cost_usd = score.tokens + record["tokens"], score.cost_usd + record["cost_usd"]
        score.unpriced_calls += record.get("unpriced_calls", 0)
        score.add_stages(record)
        if record["task_id"] in KNOWN_FLAKY:
            score.flaky.append(record["task_id"])
        if record["solved"]:
            score.solved += 1
            speedup = record["speedup"]
            if speedup and speedup > 1.0:
                score.improved += 1
                score.speedups.append(speedup)
        else:
            score.unsolved.append(record["task_id"])
    return EvalReport(dict(scores), tokens, cost, mode)


async def evaluate(
    problems: list[Problem],
    pipeline: Pipeline,
    limits: Limits,
    mode: str,
    store: ResultsStore,
    on_record: OnRecord | None = None,
    in_flight: int = IN_FLIGHT,
    work: UnitWork | None = None,
) -> EvalReport:
    """Evaluate the problems the store has no record of (with `work`, e.g. on a Ray cluster; by default here),
    then report on all of them."""
    work = work or (lambda problem: evaluate_problem(problem, pipeline, limits))
    records = await run_units(problems, work, store, on_record, in_flight)
    return eval_report(records, mode)


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

    def matrix(self, provenance: Provenance, usage: Iterable[Usage] = ()) -> RankingMatrix:
        """The counts as a matrix; each entry with its model's mean tokens and dollars per attempt in that stage
        over `usage` (the profile's calls, per stage and model: a record does not split them by language)."""
        matrix = RankingMatrix(provenance=provenance)
        means = per_attempt(usage)
        cells: dict[tuple[str, str, str], list[RankedModel]] = defaultdict(list)
        for key, n in self.samples.items():
            stage, language, cat, model = key
            tokens, cost = means.get((stage, model), (None, None))
            entry = replace(RankedModel.profiled(model, self.hits[key], n), tokens=tokens, cost_usd=cost)
            cells[(stage, language, cat)].append(entry)
        order = {model: n for n, model in enumerate(provenance.models)}
        for (stage, language, cat), ranking in cells.items():
            # Ties keep the order written (RankingMatrix.set): the profile's model order, whatever order
            # the problems finished in, so a resumed or Ray run writes the same file as a straight one.
            ranking.sort(key=lambda r: (order.get(r.model, len(order)), r.model))
            matrix.set(stage, language, cat, ranking)
        return matrix


PROFILE_METRIC = (
    "categorize: agreement with the models' plurality category; generate: pass rate on hidden tests; "
    "debug: share of failing programs (buggy_solution, failed drafts) fixed, judged on hidden tests; "
    "refine: share of passing programs made measurably faster and still correct; "
    "each score is the lower end of the rate's 95% Wilson interval (rate: the observed share)"
)


@dataclass
class ProblemTally:
    """One problem's outcomes as the profiler scores them: a problem's record in the results store."""

    events: list[list] = field(default_factory=list)  # [stage, category, model, succeeded]
    calls: list[list] = field(default_factory=list)  # [stage, model, tokens, dollars or None when unpriced]
    tokens: int = 0
    cost_usd: float = 0.0

    def add(self, stage: str, language: str, category: str, model: str, ok: bool) -> None:
        self.events.append([stage, category, model, bool(ok)])

    def record(self, problem: Problem) -> dict:
        return {
            "task_id": problem.task_id,
            "language": problem.language,
            "events": self.events,
            "calls": self.calls,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
        }


# The tally of the problem being profiled. Each problem runs in its own task, and the tasks it gathers inherit
# its context, so problems profiled concurrently never mix their tallies.
_current_tally: ContextVar[ProblemTally] = ContextVar("perforch_problem_tally")


def profile_matrix(
    records: Iterable[dict], benchmark: str, models: Iterable[str], notes: tuple[str, ...] = ()
) -> RankingMatrix:
    """The ranking matrix of a set of problem records (fresh, resumed or read back from a results store)."""
    counts, usage = SuccessCounts(), []
    for record in records:
        for stage, category, model, ok in record["events"]:
            counts.add(stage, record["language"], category, model, ok)
        for stage, model, tokens, cost in record.get("calls", []):  # a store written before calls were kept: none
            usage.append(Usage(model, stage, tokens, 0, cost or 0.0, priced=cost is not None))
    provenance = Provenance(
        benchmark=benchmark,
        date=dt.date.today().isoformat(),
        models=tuple(models),
        metric=PROFILE_METRIC,
        notes=notes,
    )
    return counts.matrix(provenance, usage)


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

    @property
    def counts(self) -> ProblemTally:
        return _current_tally.get()

    async def profile(
        self,
        problems: list[Problem],
        benchmark: str,
        store: ResultsStore,
        on_record: OnRecord | None = None,
        work: UnitWork | None = None,
        in_flight: int = IN_FLIGHT,
    ) -> RankingMatrix:
        """Profile the problems the store has no record of (with `work`, e.g. on a Ray cluster; by default
        here), then rank the models on all of them."""
        records = await run_units(problems, work or self.profile_problem, store, on_record, in_flight)
        return profile_matrix(records, benchmark, self.models, store.provenance_notes())

    async def profile_problem(self, problem: Problem) -> dict:
        """Every model on every stage of one problem: the problem's record."""
        tally = ProblemTally()
        token = _current_tally.set(tally)
        try:
            await self._problem(problem)
        finally:
            _current_tally.reset(token)
        return tally.record(problem)

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
            completion = await self.gateway.complete(model, messages, stage=stage)
        except ModelError as exc:
            if exc.kind == "budget_exceeded":  # counting the calls not made as failures would skew the profile
                raise ProfileStopped(
                    f"the profile stopped and wrote no profile: {exc}; the problems finished so far are in the "
                    "results store (raise the cap, then rerun with --resume)"
                ) from None
            return None
        tokens = completion.prompt_tokens + completion.completion_tokens
        self.counts.tokens += tokens
        self.counts.cost_usd += completion.cost_usd
        self.counts.calls.append([stage, model, tokens, completion.cost_usd if completion.priced else None])
        return completion.text

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


def per_attempt(usage: Iterable[Usage]) -> dict[tuple[str, str], tuple[float, float | None]]:
    """(stage, model) -> (mean tokens, mean dollars) per call; dollars None when any call was unpriced."""
    calls: dict[tuple[str, str], list[Usage]] = defaultdict(list)
    for record in usage:
        calls[(record.stage, record.model)].append(record)
    means = {}
    for key, records in calls.items():
        tokens = round(statistics.fmean(r.tokens for r in records), 1)
        priced = all(r.priced for r in records)
        means[key] = (tokens, round(statistics.fmean(r.cost_usd for r in records), 8) if priced else None)
    return means
