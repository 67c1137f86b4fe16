"""What the benchmark toolchains share: prepare once, build in a sandbox, run the tests confined, judge.

A language module says only what differs: how to prepare its cache, how to build a Program, the
command that runs the tests, how its runtime reports running out of memory, and where the useful part
of a failing run's output starts.
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace

from ..task import Limits, Outcome, Program, Timing, Verdict
from .diagnostics import compiler_excerpt, failure_excerpt, out_of_memory_reason, with_output
from .sandbox import ADDRESS_SPACE, Completed, Sandbox, open_sandbox
from .toolchain import Toolchain, ToolchainUnavailable

# errno texts that a runtime prints when a limit we set bites (EFBIG, EAGAIN from fork, ENOMEM),
# lower-cased: libc capitalises them, Go does not.
_LIMIT_MESSAGES = ("file too large", "resource temporarily unavailable", "cannot allocate memory")


class BuildRunToolchain(Toolchain):
    memory_rlimit: str = ADDRESS_SPACE  # runtimes that reserve huge address space use DATA_SEGMENT
    memory_headroom_mb: int = 0  # the runtime's own memory on top of Limits.memory_mb
    failure_start: re.Pattern[str] | None = None  # see diagnostics.failure_excerpt

    def __init__(self) -> None:
        self._prepared = False
        self._prepare_lock = threading.Lock()

    # -- what a language module provides ------------------------------------------------------------

    @property
    def out_of_memory_messages(self) -> tuple[str, ...]:
        return self.spec.out_of_memory

    def prepare(self) -> None:
        """One-time, blocking set-up (cache dirs, crates, servers); runs in a worker thread."""

    @abstractmethod
    async def build(self, program: Program, box: Sandbox, limits: Limits, *, optimized: bool) -> Verdict | None:
        """Write and compile the program into `box.build_dir`; a failure Verdict, or None when built.

        `optimized` asks for the build that measure() times, where a language has a faster-to-build one.
        """

    @abstractmethod
    def test_command(self, box: Sandbox, limits: Limits) -> list[str]:
        """The command that runs the built tests; it exits 0 when they pass."""

    def test_env(self, box: Sandbox) -> Mapping[str, str]:
        return {}

    async def build_harness(self, source: str, box: Sandbox, limits: Limits) -> Verdict | None:
        """Build a whole program as a release build: a timing harness (languages/<lang>/values.py made
        `source`) or an EffiBench-X program (languages/<lang>/effibench.py)."""
        raise ToolchainUnavailable(f"{self.spec.display_name} has no timing harness")

    def harness_command(self, box: Sandbox, limits: Limits) -> list[str]:
        """The built program's command (a harness's, before its four arguments: EFFICIENCY_PROTOCOL)."""
        raise ToolchainUnavailable(f"{self.spec.display_name} has no timing harness")

    def missing_tests(self, run: Completed) -> str | None:
        """Why a run that exited 0 still proves nothing (no test ran), or None."""
        return None

    # -- the shared flow ----------------------------------------------------------------------------

    async def build_and_test(self, program: Program, limits: Limits) -> Verdict:
        started = time.monotonic()
        await self.ensure_prepared()
        async with open_sandbox() as box:
            verdict = await self.build(program, box, limits, optimized=False)
            if verdict is None:
                verdict = self.judge(await self.run_tests(box, limits), box, limits)
        return replace(verdict, seconds=time.monotonic() - started)

    async def measure(self, program: Program, limits: Limits, runs: int = 5) -> Timing:
        await self.ensure_prepared()
        cpu_seconds: list[float] = []
        async with open_sandbox() as box:
            if await self.build(program, box, limits, optimized=True) is not None:
                return Timing()
            for n in range(runs + 1):  # the first run only warms caches
                run = await self.run_tests(box, limits)
                if not self.judge(run, box, limits).passed:
                    return Timing()
                if n:
                    cpu_seconds.append(run.cpu_seconds)
        return Timing(tuple(cpu_seconds))

    async def ensure_prepared(self) -> None:
        if not self._prepared:
            await asyncio.to_thread(self._prepare_once)

    def _prepare_once(self) -> None:
        with self._prepare_lock:
            if not self._prepared:
                self.prepare()
                self._prepared = True

    async def run_tests(self, box: Sandbox, limits: Limits) -> Completed:
        return await box.run(
            self.test_command(box, limits),
            limits,
            memory_rlimit=self.memory_rlimit,
            memory_headroom_mb=self.memory_headroom_mb,
            env=self.test_env(box),
        )

    async def compile(
        self,
        box: Sandbox,
        argv: Sequence[str],
        limits: Limits,
        *,
        env: Mapping[str, str] | None = None,
    ) -> Verdict | None:
        """Run one trusted build step in the build dir; a COMPILE_ERROR or TIMEOUT Verdict when it fails."""
        done = await box.build(argv, seconds=limits.build_seconds, env=env)
        if done.timed_out:
            return Verdict(Outcome.TIMEOUT, f"compiling took longer than {limits.build_seconds:g} s")
        if not done.succeeded:
            return Verdict(Outcome.COMPILE_ERROR, compiler_excerpt(box.scrub(done.output)))
        return None

    def judge(self, run: Completed, box: Sandbox, limits: Limits) -> Verdict:
        output = box.scrub(run.output)
        if run.timed_out or run.signal == signal.SIGXCPU:
            reason = f"the tests ran longer than {limits.wall_seconds:g} s"
            return Verdict(Outcome.TIMEOUT, with_output(reason, output))
        if run.signal == signal.SIGXFSZ or run.output_capped:
            reason = f"wrote a file or output larger than {limits.output_bytes} bytes"
            return Verdict(Outcome.RESOURCE_LIMIT, with_output(reason, output))
        if run.exit_code == 0:
            missing = self.missing_tests(run)
            return Verdict(Outcome.TEST_FAILED, missing) if missing else Verdict(Outcome.PASSED)
        limit_hit = self._limit_hit(output, limits)
        if limit_hit:
            return Verdict(Outcome.RESOURCE_LIMIT, with_output(limit_hit, output))
        return Verdict(Outcome.TEST_FAILED, self._failure(run, box))

    def _limit_hit(self, output: str, limits: Limits) -> str | None:
        out_of_memory = out_of_memory_reason(output, self.out_of_memory_messages, limits)
        if out_of_memory:
            return out_of_memory
        lowered = output.lower()
        hit = next((message for message in _LIMIT_MESSAGES if message in lowered), None)
        return f"hit a sandbox limit: {hit}" if hit else None

    def _failure(self, run: Completed, box: Sandbox) -> str:
        """The failing assertion or crash: searched in stderr first, where runtimes report it."""
        for stream in (run.stderr, run.stdout):
            if self.failure_start and self.failure_start.search(stream):
                return failure_excerpt(box.scrub(stream), self.failure_start)
        reason = _signal_name(run.signal) if run.signal else f"exit code {run.exit_code}"
        body = failure_excerpt(box.scrub(run.stderr.strip() or run.stdout), None)
        return f"{body}\n[{reason}]".strip()


def _signal_name(number: int) -> str:
    try:
        return f"killed by {signal.Signals(number).name}"
    except ValueError:
        return f"killed by signal {number}"
