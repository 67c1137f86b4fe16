"""The Validator of one function of a workspace file: each candidate file is put in place in the shadow
copy, built and tested there with the workspace's own toolchain inside its own jail (see jail.py), and the
user's version put back."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..checking.sandbox import Completed, Sandbox, open_sandbox
from ..task import Limits, Outcome, Timing, Verdict
from .calls import (
    CALLS_VARIABLE,
    Call,
    behaviour_change,
    function_timing,
    per_test_medians,
    read_calls,
    shown_seconds,
)
from .fetching import missing_offline
from .jail import Jail
from .project import Command, Plan, ProjectLanguage
from .reports import Tally, junit_tally, text_tally
from .selection import Selection, nothing_to_run
from .shadow import ShadowTree
from .steps import run_confined
from .verdicts import Scrubber, build_failure, test_verdict


class WorkspaceValidator:
    """`check` and `measure` as the pipeline calls them; candidates of one workspace run one at a time."""

    def __init__(
        self,
        language: ProjectLanguage,
        shadow: ShadowTree,
        function: str,
        selection: Selection,
        limits: Limits,
        *,
        bench_command: str | None,
        runs: int,
        prepare: Callable[[], Coroutine[Any, Any, None]],
        forget_fetch: Callable[[], None] = lambda: None,
        isolated: bool = True,
        on_run: Callable[[int, int], None] | None = None,
    ) -> None:
        """`isolated`: candidates run in a bubblewrap jail; False only when the user chose [sandbox] mode = "none".
        `on_run(number, runs)` is told of each timed run as it starts (a measurement takes `runs` of them)."""
        self.function = function
        self.selection = selection
        self.limits = limits
        self.runs = runs
        self.on_run = on_run
        self._language = language
        self._shadow = shadow
        self._bench_command = bench_command
        self._prepare = prepare
        self._forget_fetch = forget_fetch
        self._isolated = isolated
        self.reference: list[Call] | None = None  # the calls of the first version measured, which others must match

    @property
    def tests_source(self) -> str:
        return self.selection.source

    async def check(self, source: str) -> Verdict:
        """Build and test the candidate; with the function instrumented, its calls must also return what those of
        the version being refined returned (the first version measured), where the tests made the same call."""
        started = time.monotonic()
        if self.selection.empty:
            return Verdict(Outcome.INVALID, nothing_to_run(self.function), tests_run=0, tests_passed=0)
        await self._prepare()
        async with self._shadow.locked(), open_sandbox(private=self._isolated) as box, self._in_place(source):
            jail = await self._jail(box)
            calls = box.run_dir / "calls-check.tsv"
            plan = _recording(self.selection.plan(self._language, box.run_dir), calls)
            verdict = self._same_behaviour(await self._build_and_test(box, jail, plan), read_calls(calls))
        return replace(verdict, seconds=time.monotonic() - started, tests_source=self.selection.source)

    async def measure(self, source: str) -> Timing:
        """The function's own time in each selected test, over `runs` runs, after a run that checks the candidate
        passes; when the function cannot be instrumented (or the tests make no call to it), or a [bench] command
        is set, CPU seconds of whole runs of the tests' workload or of that command. An empty Timing when the
        candidate does not pass."""
        if self.selection.empty:
            return Timing()
        await self._prepare()
        async with self._shadow.locked(), open_sandbox(private=self._isolated) as box, self._in_place(source):
            jail = await self._jail(box)
            plan = self.selection.plan(self._language, box.run_dir)
            first = box.run_dir / "calls-0.tsv"
            if not (await self._build_and_test(box, jail, _recording(plan, first))).passed:
                return Timing()
            recorded = read_calls(first)
            if recorded and self._bench_command is None:
                self.reference = self.reference if self.reference is not None else recorded
                return await self._function_timing(box, jail, plan)
            return await self._process_timing(box, jail, plan)

    def describe(self, timing: Timing) -> str:
        """What was measured, for the refine prompt (the pipeline asks a validator that has this method)."""
        if not timing.call_ns:
            return f"Its tests take {timing.median * 1000:.1f} ms of CPU time."
        slowest, seconds = max(per_test_medians(timing).items(), key=lambda item: item[1])
        return (
            f"Its own calls take {shown_seconds(timing.median)} in its tests (median over runs), most in "
            f"{slowest}: {shown_seconds(seconds)}."
        )

    def _same_behaviour(self, verdict: Verdict, calls: list[Call]) -> Verdict:
        if not verdict.passed or self.reference is None:
            return verdict
        change = behaviour_change(self.function, self.reference, calls)
        return verdict if change is None else replace(verdict, outcome=Outcome.TEST_FAILED, diagnostics=change)

    async def _function_timing(self, box: Sandbox, jail: Jail | None, plan: Plan) -> Timing:
        runs, steps = [], plan.timed_steps
        for number in range(1, self.runs + 1):
            self._starting(number)
            calls = box.run_dir / f"calls-{number}.tsv"
            ran = await self._cpu_seconds(box, jail, _recording(replace(plan, timed=steps), calls).timed_steps)
            if not ran and not runs and steps != plan.test:
                steps = plan.test  # the leaner runner failed where the checked one passed: time in that one
                ran = await self._cpu_seconds(box, jail, _recording(replace(plan, timed=steps), calls).timed_steps)
            if not ran:
                return Timing()
            runs.append(read_calls(calls))
        return function_timing(runs)

    async def _process_timing(self, box: Sandbox, jail: Jail | None, plan: Plan) -> Timing:
        """CPU seconds of `runs` runs of the tests' workload (or the [bench] command), after one that warms up."""
        timed = self._timed(plan)
        if not await self._cpu_seconds(box, jail, timed):  # a warm-up, and proof that the workload runs
            if self._bench_command is not None or timed == plan.test:
                return Timing()
            timed = plan.test  # the leaner runner failed where the checked one passed: time that one
        cpu_seconds = []
        for number in range(1, self.runs + 1):
            self._starting(number)
            cpu_seconds.append(await self._cpu_seconds(box, jail, timed))
        return Timing(tuple(cpu_seconds)) if all(cpu_seconds) else Timing()

    def _starting(self, number: int) -> None:
        if self.on_run is not None:
            self.on_run(number, self.runs)

    # -- the steps ---------------------------------------------------------------------------------------

    async def _jail(self, box: Sandbox) -> Jail | None:
        return await asyncio.to_thread(Jail.for_candidate, self._language, box) if self._isolated else None

    async def _build_and_test(self, box: Sandbox, jail: Jail | None, plan: Plan) -> Verdict:
        scrub = Scrubber(self._shadow.tree, self._language.site.cache, box.root)
        for command in plan.build:
            run = self._not_missing_offline(command, await run_confined(box, jail, command, self.limits))
            failure = build_failure(command, run, self.limits, scrub)
            if failure is not None:
                return failure
        reports = [jail.outside(report) if jail else report for report in plan.reports]
        for report in reports:
            _remove(report)  # only this run's reports may count
        steps = [
            (command, self._not_missing_offline(command, await run_confined(box, jail, command, self.limits)))
            for command in plan.test
        ]
        tally = junit_tally(reports, self._language.failure_start) or text_tally(
            "\n".join(run.output for _, run in steps)
        )
        if tally is None and self.selection.whole_suite:
            tally = Tally(0, 0)  # the project's runner said nothing about tests (Go's "no test files"): none ran
        return test_verdict(self._language, steps, tally, self.limits, scrub)

    def _not_missing_offline(self, command: Command, run: Completed) -> Completed:
        """`run`, unless it failed for want of something the fetch should have brought: then no candidate can
        pass, so the run stops with WorkspaceError, and the next one fetches again."""
        pattern = self._language.missing_offline
        found = pattern.search(run.output) if pattern is not None and not run.succeeded else None
        if found is None:
            return run
        self._forget_fetch()
        raise missing_offline(Path(command.argv[0]).name, found.group(1))

    def _timed(self, plan: Plan) -> tuple[Command, ...]:
        if self._bench_command is None:
            return plan.timed_steps
        return (Command(("/bin/sh", "-c", self._bench_command), self._shadow.tree, "build+test", self._language.env()),)

    async def _cpu_seconds(self, box: Sandbox, jail: Jail | None, commands: tuple[Command, ...]) -> float:
        """User + sys seconds of one run of `commands`; 0.0 when one of them fails."""
        total = 0.0
        for command in commands:
            run = await run_confined(box, jail, command, self.limits)
            if not run.succeeded:
                return 0.0
            total += run.cpu_seconds
        return max(total, 1e-9)

    @contextlib.asynccontextmanager
    async def _in_place(self, source: str) -> AsyncIterator[None]:
        """The candidate as the edited file, its function instrumented where the language can (plus any generated
        test), in the shadow copy, for the block."""
        generated = self.selection.generated
        edited = self._language.site.file
        written = self._language.timed_files(source, self.function) or {edited: source}
        written[edited] += generated.appendix if generated else ""
        written |= dict(generated.files) if generated else {}
        try:
            for relative, text in written.items():
                self._shadow.write(relative, text)
            yield
        finally:
            for relative in written:
                self._shadow.restore(relative)


def _recording(plan: Plan, calls: Path) -> Plan:
    """`plan` with its test steps told where the instrumented function records its calls."""

    def told(commands: tuple[Command, ...]) -> tuple[Command, ...]:
        return tuple(replace(command, env={**command.env, CALLS_VARIABLE: str(calls)}) for command in commands)

    return replace(plan, test=told(plan.test), timed=None if plan.timed is None else told(plan.timed))


def _remove(report: Path) -> None:
    if report.is_dir():
        shutil.rmtree(report, ignore_errors=True)
    else:
        report.unlink(missing_ok=True)
