"""categorize -> generate -> debug -> refine, with validation after every step and no passing version lost.

The pipeline knows models only through the gateway, which models to ask only through a Router, and programs only
through a Validator, so the same code serves benchmarks and workspaces. Progress goes to a callback, each better
version to another as soon as it exists (an editor offers it while refinement goes on), and a finished run to a
hook (the learner subscribes); cancelling the awaiting task cancels the model request or the
sandboxed run in flight.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from .agents import categorize, debug, generate, refine
from .candidates import Candidate, checked, judged, shown
from .config import PipelineSettings
from .costs import JobEstimate
from .models import ModelError, ModelGateway
from .rankings.router import Router
from .redaction import excerpt
from .run import Attempt, FinishedCallback, ProgressCallback, ProgressEvent, Result, VersionCallback
from .stubs import find_function
from .task import ANY_CATEGORY, Outcome, Task, Timing
from .validation import Validator, speedup

log = logging.getLogger(__name__)

# Which failing draft a debugger should see first: the closest to passing.
_DRAFT_PREFERENCE = [Outcome.TEST_FAILED, Outcome.TIMEOUT, Outcome.RESOURCE_LIMIT, Outcome.COMPILE_ERROR]


class _OutOfBudget(Exception):
    pass


class Pipeline:
    def __init__(
        self,
        gateway: ModelGateway,
        router: Router,
        settings: PipelineSettings,
        *,
        on_progress: ProgressCallback | None = None,
        on_finished: FinishedCallback | None = None,
        on_version: VersionCallback | None = None,
    ) -> None:
        """`router` says which models each stage asks; `on_finished` gets every finished run's result
        (a learner records its outcomes there); `on_version` each better version while the run goes on."""
        self.gateway = gateway
        self.router = router
        self.settings = settings
        self.on_progress = on_progress
        self.on_finished = on_finished
        self.on_version = on_version

    async def run(self, task: Task, validator: Validator) -> Result:
        """Write the function from its stub, debug it until the visible tests pass, then refine it."""
        result = Result(task.task_id, task.language)
        try:
            await self._categorize(task, result)
            passing = await self._generate_and_debug(task, validator, result)
            if passing:
                await self._refine(task, validator, result, passing)
        except _OutOfBudget:
            log.info("%s: %s; keeping the best version so far", task.task_id or task.entry_point, result.stopped)
        await self._finished(result)
        return result

    async def optimize(self, task: Task, validator: Validator) -> Result:
        """Refine a finished function (task.source holds it): it must pass before and after."""
        result = Result(task.task_id, task.language)
        self._emit(ProgressEvent("validate", "", 0, "started", "running the tests on the function as it stands"))
        verdict = shown(await validator.check(task.source))
        result.trace.append(Attempt("validate", "", 0, verdict.outcome.value, verdict.diagnostics, verdict.seconds))
        if not verdict.passed:
            return result
        code = find_function(task.source, task.language, name=task.entry_point).text
        result.passed, result.source, result.code, result.verdict = True, task.source, code, verdict
        try:
            await self._categorize(task, result)
            await self._refine(task, validator, result, Candidate(code, task.source, verdict, ""))
        except _OutOfBudget:
            log.info("optimizing %s: %s; keeping the best version so far", task.entry_point, result.stopped)
        await self._finished(result)
        return result

    def estimate(self, task: Task) -> JobEstimate:
        """What `run` (or `optimize`) on `task` is expected to cost, before any call (costs.JobEstimate). The
        category is not known yet, so the language's rows route; every prompt is sized on the task's file."""
        language, source, name, s = task.language, task.source, task.entry_point, self.settings
        said = task.statement
        prompts = {
            "categorize": categorize.build_messages(language, source, name, said),
            "generate": generate.build_messages(language, source, name, said),
            "debug": debug.build_messages(language, source, name, source, "", task.visible_test, said),
            "refine": refine.build_messages(language, source, name, source, "", said),
        }
        order = {
            stage: self._models(stage, language, ANY_CATEGORY, count)
            for stage, count in (
                ("categorize", 1),
                ("generate", s.generators),
                ("debug", s.debuggers),
                ("refine", s.refiners),
            )
        }
        if s.refine == "exhaustive":
            order["refine"] = self.router.order("refine", language)
        drafts = s.generators if s.fallback == "per-generator" else 1  # drafts the debuggers may work on
        every = {**order, "debug": [m for m in order["debug"] for _ in range(s.debug_rounds * drafts)]}
        first = {**order, "generate": order["generate"][:1], "debug": []}
        return _estimated(self.gateway, prompts, first, every)

    # -- stages -------------------------------------------------------------------------------------

    async def _categorize(self, task: Task, result: Result) -> None:
        messages = categorize.build_messages(task.language, task.source, task.entry_point, task.statement)
        for n, model in enumerate(self._models("categorize", task.language, ANY_CATEGORY, 1), 1):
            answer = await self._ask("categorize", model, n, messages, result)
            if answer is not None:
                result.category, result.category_from_model = categorize.parse(answer, task.problem_text)
                result.models["categorize"] = model
                return
        result.category = categorize.classify_by_keywords(task.problem_text)

    async def _generate_and_debug(self, task: Task, validator: Validator, result: Result) -> Candidate | None:
        if self.settings.fallback == "per-generator":
            return await self._per_generator(task, validator, result)
        return await self._breadth_first(task, validator, result)

    async def _breadth_first(self, task: Task, validator: Validator, result: Result) -> Candidate | None:
        """Every generator drafts; then the debuggers, in turn, work on the draft closest to passing."""
        drafts: list[Candidate] = []
        for n, model in enumerate(self._models("generate", task.language, result.category, self.settings.generators)):
            candidate = await self._generate(task, validator, result, model, n + 1)
            if candidate and candidate.verdict.passed:
                return self._keep(result, "generate", candidate)
            if candidate:
                drafts.append(candidate)
        draft = _closest_to_passing(drafts)
        return await self._debugged(draft, task, validator, result) if draft else None

    async def _per_generator(self, task: Task, validator: Validator, result: Result) -> Candidate | None:
        """The paper's order: each generator's draft goes to every debugger before the next generator is asked."""
        for n, model in enumerate(self._models("generate", task.language, result.category, self.settings.generators)):
            candidate = await self._generate(task, validator, result, model, n + 1)
            if candidate and candidate.verdict.passed:
                return self._keep(result, "generate", candidate)
            fixed = await self._debugged(candidate, task, validator, result) if candidate else None
            if fixed:
                return fixed
        return None

    async def _generate(self, task: Task, validator: Validator, result: Result, model: str, n: int) -> Candidate | None:
        messages = generate.build_messages(task.language, task.source, task.entry_point, task.statement)
        return await self._candidate("generate", model, n, messages, task, validator, result)

    async def _debugged(self, draft: Candidate, task: Task, validator: Validator, result: Result) -> Candidate | None:
        for model in self._models("debug", task.language, result.category, self.settings.debuggers):
            fixed = await self._debug_with(model, draft, task, validator, result)
            if fixed:
                return self._keep(result, "debug", fixed)
        return None

    async def _debug_with(
        self, model: str, draft: Candidate, task: Task, validator: Validator, result: Result
    ) -> Candidate | None:
        """Up to debug_rounds rounds, each on the latest usable version; every debugger starts afresh."""
        current = draft
        for n in range(1, self.settings.debug_rounds + 1):
            messages = debug.build_messages(
                task.language,
                task.source,
                task.entry_point,
                current.code,
                current.verdict.diagnostics,
                task.visible_test,
                task.statement,
            )
            candidate = await self._candidate("debug", model, n, messages, task, validator, result)
            if candidate and candidate.verdict.passed:
                return candidate
            if candidate and candidate.source is not None:
                current = candidate
        return None

    async def _refine(self, task: Task, validator: Validator, result: Result, passing: Candidate) -> None:
        if self.settings.refiners <= 0:
            return
        result.first_passing_source = passing.source
        if passing.source != task.source:  # usable now: refinement may take minutes and find nothing faster
            self._offer(result)
        which = "the original" if passing.source == task.source else "the passing version"
        self._emit(ProgressEvent("refine", "", 0, "measuring", f"timing {which}"))
        baseline = await validator.measure(passing.source)
        if self.settings.refine == "exhaustive":
            best, best_timing = await self._refine_exhaustively(task, validator, result, passing, baseline)
        else:
            best, best_timing = await self._refine_ranked(task, validator, result, passing, baseline)
        if best is not passing:
            self._keep(result, "refine", best)
        result.speedup = speedup(baseline, best_timing) if best is not passing else 1.0
        result.timing_before, result.timing_after = baseline, best_timing

    async def _refine_ranked(
        self, task: Task, validator: Validator, result: Result, passing: Candidate, baseline: Timing
    ) -> tuple[Candidate, Timing]:
        """Down the ranking, `refiners` models, each refining the fastest version so far."""
        best, best_timing = passing, baseline
        for n, model in enumerate(self._models("refine", task.language, result.category, self.settings.refiners), 1):
            faster = await self._refined(task, validator, result, model, n, best, best_timing)
            if faster is not None:
                best, best_timing = faster
                self._offer(result, best, baseline, best_timing)
        return best, best_timing

    async def _refine_exhaustively(
        self, task: Task, validator: Validator, result: Result, passing: Candidate, baseline: Timing
    ) -> tuple[Candidate, Timing]:
        """Every refiner the user has, each from the same passing version; the fastest kept one wins."""
        kept: list[tuple[Candidate, Timing]] = []
        for n, model in enumerate(self.router.order("refine", task.language, result.category), 1):
            faster = await self._refined(task, validator, result, model, n, passing, baseline)
            if faster is not None:
                if all(speedup(baseline, faster[1]) > speedup(baseline, timing) for _, timing in kept):
                    self._offer(result, faster[0], baseline, faster[1])
                kept.append(faster)
        return max(kept, key=lambda pair: speedup(baseline, pair[1]), default=(passing, baseline))

    async def _refined(
        self, task: Task, validator: Validator, result: Result, model: str, n: int, start: Candidate, timing: Timing
    ) -> tuple[Candidate, Timing] | None:
        """`model`'s refinement of `start` with its timing, when it passes and is measurably faster."""
        describe = getattr(validator, "describe", None)  # what the validator measured, in words
        speed = describe(timing) if describe else refine.speed_note(timing.median)
        messages = refine.build_messages(
            task.language, task.source, task.entry_point, start.code, speed, task.statement
        )
        candidate = await self._candidate("refine", model, n, messages, task, validator, result)
        if not (candidate and candidate.verdict.passed):
            return None
        self._emit(ProgressEvent("refine", model, n, "measuring", f"timing {model}'s version"))
        refinement = await judged(start, timing, candidate, validator, self.settings.refine_threshold)
        status = "faster" if refinement.kept else "not_faster"
        self._note("refine", model, n, status, refinement.detail, result, speedup=refinement.speedup)
        return (candidate, refinement.timing) if refinement.kept and refinement.timing else None

    # -- one model call turned into a checked candidate ---------------------------------------------

    async def _candidate(
        self, stage: str, model: str, n: int, messages: list[dict], task: Task, validator: Validator, result: Result
    ) -> Candidate | None:
        answer = await self._ask(stage, model, n, messages, result)
        if answer is None:
            return None
        candidate = await checked(task, answer, model, validator)
        verdict = candidate.verdict
        self._note(stage, model, n, verdict.outcome.value, verdict.diagnostics, result, verdict.seconds)
        if result.source is None and candidate.source is not None:  # something to show even if nothing passes
            result.source, result.code, result.verdict = candidate.source, candidate.code, verdict
        return candidate

    async def _ask(self, stage: str, model: str, n: int, messages: list[dict], result: Result) -> str | None:
        self._emit(ProgressEvent(stage, model, n, "started"))
        started = time.perf_counter()
        try:
            completion = await self.gateway.complete(model, messages, stage=stage, timeout=self.settings.model_timeout)
        except ModelError as exc:
            self._note(stage, model, n, exc.kind, str(exc), result, time.perf_counter() - started)
            if exc.kind == "budget_exceeded":  # a token budget or a dollar cap: no later call may start
                result.stopped = exc.message
                raise _OutOfBudget from exc
            return None
        result.trace.append(
            Attempt(
                stage,
                model,
                n,
                "answered",
                "",
                completion.seconds,
                completion.prompt_tokens,
                completion.completion_tokens,
                completion.cost_usd,
                priced=completion.priced,
            )
        )
        return completion.text

    # -- bookkeeping --------------------------------------------------------------------------------

    def _models(self, stage: str, language: str, category: str, count: int) -> list[str]:
        order = self.router.order(stage, language, category)
        if self.router.fills_slots and order:  # a single-model baseline: the routed run's budget, one model
            return [order[0]] * count
        return order[:count]

    async def _finished(self, result: Result) -> None:
        if self.on_finished is None:
            return
        try:
            await self.on_finished(result)
        except Exception:  # a side effect (learning): it must never cost the user the result
            log.exception("the finished-run hook failed")

    def _offer(
        self,
        result: Result,
        faster: Candidate | None = None,
        baseline: Timing | None = None,
        timing: Timing | None = None,
    ) -> None:
        """Hand a snapshot of the run, with `faster` kept if given, to `on_version`."""
        if self.on_version is None:
            return
        snapshot = dataclasses.replace(result, models=dict(result.models), trace=list(result.trace))
        if faster is not None and baseline is not None and timing is not None:
            self._keep(snapshot, "refine", faster)
            snapshot.speedup = speedup(baseline, timing)
            snapshot.timing_before, snapshot.timing_after = baseline, timing
        try:
            self.on_version(snapshot)
        except Exception:  # a broken listener must not break the run
            log.exception("the better-version callback failed")

    def _keep(self, result: Result, stage: str, candidate: Candidate) -> Candidate:
        result.passed, result.verdict = True, candidate.verdict
        result.source, result.code = candidate.source, candidate.code
        result.models[stage] = candidate.model
        return candidate

    def _note(
        self,
        stage: str,
        model: str,
        n: int,
        status: str,
        detail: str,
        result: Result,
        seconds: float = 0.0,
        speedup: float | None = None,
    ) -> None:
        detail = excerpt(detail)  # what a candidate printed, or a provider said, goes to users and models
        result.trace.append(Attempt(stage, model, n, status, detail, seconds, speedup=speedup))
        self._emit(ProgressEvent(stage, model, n, status, detail))

    def _emit(self, event: ProgressEvent) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(event)
        except Exception:  # a broken progress listener must not break the run
            log.exception("progress callback failed")


def _estimated(
    gateway: ModelGateway, prompts: dict[str, list[dict]], first: dict[str, list[str]], every: dict[str, list[str]]
) -> JobEstimate:
    unpriced: list[str] = []

    def total(route: dict[str, list[str]]) -> tuple[float, int]:
        usd, calls = 0.0, 0
        for stage, models in route.items():
            for model in models:
                calls += 1
                try:
                    cost = gateway.expected_cost(model, prompts[stage]).cost_usd
                except ModelError:  # an unknown model: the run will say so; it costs nothing
                    cost = 0.0
                if cost is None:
                    unpriced.append(model)
                usd += cost or 0.0
        return usd, calls

    first_usd, first_calls = total(first)
    most_usd, most_calls = total(every)
    return JobEstimate(first_usd, first_calls, most_usd, most_calls, tuple(dict.fromkeys(unpriced)))


def _closest_to_passing(drafts: list[Candidate]) -> Candidate | None:
    usable = [d for d in drafts if d.verdict.outcome in _DRAFT_PREFERENCE]
    if usable:
        return min(usable, key=lambda d: _DRAFT_PREFERENCE.index(d.verdict.outcome))
    return drafts[0] if drafts else None
