"""Running a timing harness (EFFICIENCY_PROTOCOL.md) for the typed languages: the language's `values`
module writes the program around the candidate, its toolchain builds it as a release build, and the
sandbox runs it on an input file; the harness's own output gives each case's times and the peak RSS.

`run_harness` is keyed by language; `run_in_turns` times several versions taking turns. `run` and
`run_together` are the entries the ENAMEL side calls (efficiency/harness.py): cases in,
its HarnessRun and the decoded results out, the function's types read from the candidate's own declaration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any

from ..checking import get_toolchain
from ..checking.buildrun import BuildRunToolchain
from ..checking.diagnostics import with_output
from ..checking.sandbox import Completed, Sandbox, open_sandbox
from ..checking.toolchain import ToolchainUnavailable
from ..languages import language_spec
from ..stubs import FunctionNotFound, find_function
from ..task import Limits, Outcome, Verdict
from .values import Signature, Unrenderable, decode_results, encode_cases, shaped_like

_TIMES = re.compile(r"^TIMES (\d+)((?: \d+)*)\s*$", re.MULTILINE)
_PEAK = re.compile(r"^PEAK_RSS_KB (\d+)\s*$", re.MULTILINE)
RESULT_FILE = "results.pvs"


@dataclass(frozen=True)
class HarnessRun:
    """How one harness run went: `verdict.passed` when it ran every case to the end."""

    verdict: Verdict
    times_ns: tuple[tuple[int, ...], ...] = ()  # per case, the timed calls in order
    results: bytes = b""  # the first call's result of each case, PVS in case order
    peak_rss_kb: int | None = None
    output: str = field(default="", repr=False)  # what the harness printed, for diagnostics


async def run_harness(
    language: str,
    source: str,
    signature: Signature,
    inputs: bytes,
    warmups: int,
    runs: int,
    limits: Limits,
) -> HarnessRun:
    """Build the harness around `source` (the candidate's whole file), run it on `inputs` (a PVS input
    file's bytes) with `warmups` untimed and `runs` timed calls per case, and read what it reports. The
    result file holds each case's first call, so a check-only run (`runs=0`) still makes one untimed call."""
    (run,) = await run_in_turns(language, [(source, signature, inputs)], warmups, runs, limits)
    return run


async def run_in_turns(
    language: str,
    versions: Sequence[tuple[str, Signature, bytes]],
    warmups: int,
    runs: int,
    limits: Limits,
) -> list[HarnessRun]:
    """Several versions (source, signature, inputs), each built once, then run in turns: the language's
    `timing_rounds` short runs each, alternating, so that a spell of load (or one process's unlucky JIT or
    memory layout) weighs on a few calls of each version rather than on all the calls of one. Each version's
    times are its rounds' calls in order; the results are its first round's. `limits.wall_seconds` bounds
    each version's rounds together. A version alone runs once: turns only matter to a comparison."""
    spec = language_spec(language)
    name = spec.name
    warmups = max(warmups, 1) if runs == 0 else max(warmups, spec.jit_warmups)  # see LanguageSpec.jit_warmups
    toolchain = get_toolchain(name)
    if not isinstance(toolchain, BuildRunToolchain):
        raise ToolchainUnavailable(f"{name} has no timing harness")
    await toolchain.ensure_prepared()
    async with AsyncExitStack() as stack:
        turns = [_Turns(toolchain, await stack.enter_async_context(open_sandbox()), limits) for _ in versions]
        for turn, (source, signature, inputs) in zip(turns, versions, strict=True):
            await turn.build(language_spec(name).values().harness_source(signature, source), inputs)
        for calls in _rounds(runs, spec.timing_rounds if len(versions) > 1 else 1):  # turns need two
            for turn in turns:
                await turn.run(warmups, calls)
        return [turn.finished(runs) for turn in turns]


def _rounds(runs: int, most: int) -> list[int]:
    """The timed calls of each round: `runs` split over at most `most` rounds (one untimed round for 0)."""
    rounds = max(1, min(most, runs))
    return [runs // rounds + (n < runs % rounds) for n in range(rounds)]


class _Turns:
    """One version's harness, built once in its own box, run round after round; its calls kept in order."""

    def __init__(self, toolchain: BuildRunToolchain, box: Sandbox, limits: Limits) -> None:
        self.toolchain, self.box, self.limits = toolchain, box, limits
        self.failed: HarnessRun | None = None
        self.times: list[list[int]] = []
        self.results = b""
        self.peak = 0
        self.output = ""
        self.spent = 0.0

    async def build(self, program: str, inputs: bytes) -> None:
        failed = await self.toolchain.build_harness(program, self.box, self.limits)
        if failed is not None:
            self.failed = HarnessRun(failed)
        (self.box.build_dir / "input.pvs").write_bytes(inputs)

    async def run(self, warmups: int, calls: int) -> None:
        if self.failed is not None:
            return
        box, toolchain = self.box, self.toolchain
        limits = replace(self.limits, wall_seconds=max(self.limits.wall_seconds - self.spent, 0.1))
        argv = [*toolchain.harness_command(box, limits), str(box.build_dir / "input.pvs")]
        argv += [str(box.run_dir / RESULT_FILE), str(warmups), str(calls)]
        run = await box.run(
            argv,
            limits,
            memory_rlimit=toolchain.memory_rlimit,
            memory_headroom_mb=toolchain.memory_headroom_mb,
            env=toolchain.test_env(box),
        )
        self.spent += run.wall_seconds
        read = _read_run(toolchain, run, box, limits, calls)
        if not read.verdict.passed:
            self.failed = read
            return
        self._add(read)

    def _add(self, read: HarnessRun) -> None:
        if not self.times:
            self.times = [[] for _ in read.times_ns]
            self.results, self.output = read.results, read.output
        for calls, more in zip(self.times, read.times_ns, strict=True):
            calls.extend(more)
        self.peak = max(self.peak, read.peak_rss_kb or 0)

    def finished(self, runs: int) -> HarnessRun:
        if self.failed is not None:
            return self.failed
        times = tuple(tuple(calls) for calls in self.times)
        return HarnessRun(Verdict(Outcome.PASSED), times, self.results, self.peak, self.output)


def _read_run(toolchain: BuildRunToolchain, run: Completed, box: Sandbox, limits: Limits, runs: int) -> HarnessRun:
    output = box.scrub(run.output)
    if run.exit_code != 0 or run.timed_out:
        return HarnessRun(toolchain.judge(run, box, limits), output=output)
    times = tuple(tuple(int(ns) for ns in match.group(2).split()) for match in _TIMES.finditer(run.stdout))
    peak = _PEAK.search(run.stdout)
    result_path = box.run_dir / RESULT_FILE
    problem = _incomplete(times, peak, result_path.is_file(), runs)
    if problem:
        return HarnessRun(Verdict(Outcome.TEST_FAILED, with_output(problem, output)), output=output)
    assert peak is not None
    return HarnessRun(Verdict(Outcome.PASSED), times, result_path.read_bytes(), int(peak.group(1)), output)


def _incomplete(times: tuple[tuple[int, ...], ...], peak: re.Match[str] | None, results: bool, runs: int) -> str:
    if peak is None or not results:
        return "the harness exited 0 without its report (PEAK_RSS_KB line and result file)"
    short = [case for case, timed in enumerate(times) if len(timed) != runs]
    return f"the harness reported the wrong number of timed calls for case(s) {short}" if short else ""


def signature_in(language: str, source: str, entry_point: str) -> Signature:
    """The typed signature of `entry_point` as `source` declares it; Unrenderable when absent or untyped."""
    try:
        declared = find_function(source, language, name=entry_point).signature
    except FunctionNotFound as exc:
        raise Unrenderable(f"no function {entry_point} to time: {exc}") from exc
    return language_spec(language).values().parse_signature(declared)


def unrenderable(language: str, source: str, entry_point: str, cases: Sequence[Any]) -> str:
    """Why `entry_point`'s declared types, or one of `cases`' arguments, cannot be carried to the harness
    (e.g. a float where `int` is declared); "" when all can."""
    try:
        signature = signature_in(language, source, entry_point)
        encode_cases(signature.param_types, [case.args for case in cases])
    except Unrenderable as exc:
        return str(exc)
    return ""


async def run(
    language: str, source: str, entry_point: str, cases: Sequence[Any], warmups: int, runs: int, limits: Limits
) -> tuple[Any, list[object]]:
    """For efficiency/harness.py: time `entry_point` on `cases` (each with `.args` and `.expected`) and
    return (its HarnessRun, the first result of each case as a Python value shaped like `.expected`).
    HarnessUnavailable when the types or an input cannot be carried, with the reason."""
    (ran,) = await run_together(language, [source], entry_point, cases, warmups, runs, limits)
    return ran


async def run_together(
    language: str,
    sources: Sequence[str],
    entry_point: str,
    cases: Sequence[Any],
    warmups: int,
    runs: int,
    limits: Limits,
    run_id: str = "",
) -> list[tuple[Any, list[object]]]:
    """`run` for several versions timed in turns (`run_in_turns`); each passing one's HarnessRun carries
    `run_id`, so the verdict compares their calls as pairs (the i-th calls ran in the same round)."""
    from .harness import HarnessUnavailable  # that module imports this one lazily

    versions = []
    for source in sources:
        try:
            signature = signature_in(language, source, entry_point)
            versions.append((source, signature, encode_cases(signature.param_types, [c.args for c in cases])))
        except Unrenderable as exc:
            raise HarnessUnavailable(f"{language}: {exc}") from exc
    timed = await run_in_turns(language, versions, warmups, runs, limits)
    return [_decoded(run, signature, cases, run_id) for run, (_, signature, _) in zip(timed, versions, strict=True)]


def _decoded(timed: HarnessRun, signature: Signature, cases: Sequence[Any], run_id: str) -> tuple[Any, list[object]]:
    from .harness import HarnessRun as JudgedRun  # that module imports this one lazily

    if not timed.verdict.passed:
        return JudgedRun(timed.verdict.outcome, timed.times_ns, timed.peak_rss_kb, timed.verdict.diagnostics), []
    try:
        results = decode_results(signature.returns, timed.results, len(cases))
    except (ValueError, UnicodeDecodeError) as exc:
        return JudgedRun(Outcome.TEST_FAILED, timed.times_ns, timed.peak_rss_kb, f"unreadable results: {exc}"), []
    shaped = [shaped_like(result, case.expected) for result, case in zip(results, cases, strict=True)]
    return JudgedRun(Outcome.PASSED, timed.times_ns, timed.peak_rss_kb, run_id=run_id), shaped
