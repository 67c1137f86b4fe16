"""Time a function in-process on performance inputs and judge its results: the language-keyed entry point.

`run_harness(language, ...)` runs the language's harness program in the sandbox (EFFICIENCY_PROTOCOL.md),
which times every call alone, then judges the results with the problem's ENAMEL checker in a second
sandboxed process (judge.py): the candidate's process never sees the expected answers and cannot touch the
checker. Python's harness is py_harness.py; the typed languages' come from efficiency/values.py's helper
(`typed_harness`), which returns the results already decoded to Python values.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checking import get_toolchain
from ..checking.sandbox import Completed, Sandbox, open_sandbox
from ..errors import PerfOrchError
from ..languages import language_spec
from ..task import Limits, Outcome, Timing
from .enamel import EnamelProblem
from .inputs import Case
from .tagged import encode_all

_HERE = Path(__file__).parent
_RUN_IDS = itertools.count(1)
_MAX_RESULTS = 256 * 1024 * 1024
_JUDGE_LIMITS = Limits(wall_seconds=120.0, memory_mb=4096, output_bytes=1024 * 1024)


class HarnessUnavailable(PerfOrchError):
    pass


@dataclass(frozen=True)
class HarnessRun:
    outcome: Outcome  # PASSED: it ran every case and the checker accepted every result
    call_ns: tuple[tuple[int, ...], ...] = ()  # per case it finished, the timed calls
    peak_rss_kb: int | None = None
    detail: str = ""  # why it did not pass, safe to show a model
    failed_case: int | None = None  # the first case that raised, was rejected or was cut off
    run_id: str = ""  # the harness run; versions timed in turn in one run share it (see Timing.run_id)
    cut_off_ns: int = 0  # TIMEOUT: how long it ran before its deadline stopped it

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    @property
    def timing(self) -> Timing:
        """Its measurements when every case finished and passed, else an empty Timing (nothing to compare)."""
        if self.outcome is Outcome.TIMEOUT:
            return Timing(cut_off_ns=self.cut_off_ns)
        if not self.passed:
            return Timing()
        return Timing(call_ns=self.call_ns, peak_rss_kb=self.peak_rss_kb, run_id=self.run_id)


def harness_available(language: str) -> bool:
    """Whether `language` has an in-process timing harness here (Python always; the typed languages once
    efficiency/typed_harness.py is installed)."""
    if language_spec(language).name == "python":
        return True
    return importlib.util.find_spec(f"{__package__}.typed_harness") is not None


def unrenderable(language: str, source: str, entry_point: str, cases: Sequence[Case]) -> str:
    """Why the harness cannot carry `source`'s declared types or one of `cases` in `language` ("" when it can:
    always in Python, whose harness takes the values as they are)."""
    language = language_spec(language).name
    if language == "python" or not harness_available(language):
        return ""
    typed = importlib.import_module(f"{__package__}.typed_harness")
    return typed.unrenderable(language, source, entry_point, cases)


async def run_harness(
    language: str,
    problem: EnamelProblem,
    source: str,
    entry_point: str,
    cases: Sequence[Case],
    *,
    warmups: int,
    runs: int,
    limits: Limits,
    budget_ms: int = 0,
) -> HarnessRun:
    """Time `entry_point` of `source` on `cases` (warm-ups, then `runs` timed calls per case, fewer past
    `budget_ms` where the harness honours it; `runs=0` only checks) and judge every case's first result."""
    (run,) = await run_versions(
        language, problem, [source], entry_point, cases, warmups=warmups, runs=runs, limits=limits, budget_ms=budget_ms
    )
    return run


async def run_versions(
    language: str,
    problem: EnamelProblem,
    sources: Sequence[str],
    entry_point: str,
    cases: Sequence[Case],
    *,
    warmups: int,
    runs: int,
    limits: Limits,
    budget_ms: int = 0,
) -> list[HarnessRun]:
    """Several versions timed together, taking turns so that the machine's load weighs on each alike: call by
    call in one process (Python), a short run each in turn (the typed languages). Each is judged."""
    language = language_spec(language).name
    if language == "python":
        return await _python(problem, sources, entry_point, cases, warmups, runs, limits, budget_ms)
    return await _typed(language, problem, sources, entry_point, cases, warmups, runs, limits)


async def _python(
    problem: EnamelProblem,
    sources: Sequence[str],
    entry_point: str,
    cases: Sequence[Case],
    warmups: int,
    runs: int,
    limits: Limits,
    budget_ms: int,
) -> list[HarnessRun]:
    toolchain = get_toolchain("python")
    await toolchain.ensure_prepared()
    interpreter = toolchain.interpreter  # type: ignore[attr-defined]
    async with open_sandbox() as box:
        for name in ("py_harness.py", "judge.py", "tagged.py"):
            shutil.copy(_HERE / name, box.build_dir / name)
        versions = [str(box.write(f"version{n}.py", source)) for n, source in enumerate(sources)]
        (box.build_dir / "inputs").write_bytes(encode_all([len(cases), *(c.args for c in cases)]))
        argv = [interpreter, "-I", "-B", str(box.build_dir / "py_harness.py"), str(box.build_dir / "inputs")]
        argv += ["results", str(warmups), str(runs), str(budget_ms), *versions]
        run = await box.run(argv, limits, env={"PERFORCH_ENTRY_POINT": entry_point})
        judged = []
        for version, timed in enumerate(_parse_report(run, len(sources), len(cases))):
            results = _read_capped(box.run_dir / f"results{version}") if timed.passed else None
            if timed.passed and results is None:
                timed = HarnessRun(Outcome.TEST_FAILED, detail="the harness wrote no readable results")
            if results is not None:
                timed = await _judged(box, interpreter, problem, cases, results, timed)
            judged.append(timed)
        return judged


async def _typed(
    language: str,
    problem: EnamelProblem,
    sources: Sequence[str],
    entry_point: str,
    cases: Sequence[Case],
    warmups: int,
    runs: int,
    limits: Limits,
) -> list[HarnessRun]:
    """Java, C++, Go, Rust: the typed-values helper runs the harnesses in turns and decodes the results; we
    judge them.

    Its contract: `await typed_harness.run_together(language, sources, entry_point, cases, warmups, runs,
    limits, run_id)` returns, per source, `(HarnessRun, results)`: the run's outcome and per-case times as
    here, and the first result of every case as Python values of the types ENAMEL's checker expects (the
    answers in `Case.expected` show them)."""
    try:
        typed = importlib.import_module(f"{__package__}.typed_harness")
    except ModuleNotFoundError as exc:
        raise HarnessUnavailable(f"{language}: no in-process timing harness is installed ({exc})") from exc
    run_id = f"{os.getpid()}-{next(_RUN_IDS)}" if len(sources) > 1 else ""
    ran = await typed.run_together(language, sources, entry_point, cases, warmups, runs, limits, run_id)
    judged = []
    for timed, results in ran:
        judged.append(await _typed_judged(problem, cases, timed, results) if timed.passed else timed)
    return judged


async def _typed_judged(problem: EnamelProblem, cases: Sequence[Case], timed: HarnessRun, results: list) -> HarnessRun:
    toolchain = get_toolchain("python")
    await toolchain.ensure_prepared()
    interpreter = toolchain.interpreter  # type: ignore[attr-defined]
    async with open_sandbox() as box:
        shutil.copy(_HERE / "judge.py", box.build_dir / "judge.py")
        shutil.copy(_HERE / "tagged.py", box.build_dir / "tagged.py")
        return await _judged(box, interpreter, problem, cases, encode_all(results), timed)


def _parse_report(run: Completed, versions: int, cases: int) -> list[HarnessRun]:
    """The harness's stdout read into times per version and case; the outcome says how the run ended."""
    call_ns: list[list[tuple[int, ...]]] = [[] for _ in range(versions)]
    peak, error = None, ""
    for line in run.stdout.splitlines():
        word, *fields = line.split(" ")
        if word == "TIMES" and len(fields) >= 2 and fields[0].isdigit() and int(fields[0]) < versions:
            finished = call_ns[int(fields[0])]
            if fields[1] == str(len(finished)):
                finished.append(tuple(int(ns) for ns in fields[2:] if ns.isdigit()))
        elif word == "PEAK_RSS_KB" and fields and fields[0].isdigit():
            peak = int(fields[0])
        elif word == "ERROR" and not error:
            error = " ".join(fields)
    run_id = f"{os.getpid()}-{next(_RUN_IDS)}"
    return [
        _ended(run, tuple(finished), peak, error, version, cases, run_id) for version, finished in enumerate(call_ns)
    ]


def _ended(
    run: Completed,
    finished: tuple[tuple[int, ...], ...],
    peak: int | None,
    error: str,
    version: int,
    cases: int,
    run_id: str,
) -> HarnessRun:
    if error:
        culprit, case, why = (error.split(" ", 2) + ["", ""])[:3]
        if culprit != str(version):  # another version raised: this one was not to blame, but is unmeasured
            return HarnessRun(Outcome.INVALID, finished, peak, f"not timed: version {culprit} raised {why}")
        return HarnessRun(Outcome.TEST_FAILED, finished, peak, f"raised {why}", int(case) if case.isdigit() else None)
    if run.timed_out:
        detail = f"timed out on case {len(finished)}"
        cut_off_ns = int(run.wall_seconds * 1e9)
        return HarnessRun(Outcome.TIMEOUT, finished, peak, detail, len(finished), cut_off_ns=cut_off_ns)
    if not run.succeeded or len(finished) != cases or peak is None:
        detail = (run.stderr.strip() or run.stdout.strip())[-1500:] or f"exit status {run.exit_code}"
        outcome = Outcome.RESOURCE_LIMIT if "MemoryError" in detail or run.output_capped else Outcome.TEST_FAILED
        return HarnessRun(outcome, finished, peak, detail, len(finished))
    return HarnessRun(Outcome.PASSED, finished, peak, run_id=run_id)


async def _judged(
    box: Sandbox, interpreter: str, problem: EnamelProblem, cases: Sequence[Case], results: bytes, timed: HarnessRun
) -> HarnessRun:
    box.write("judge.json", json.dumps({"prompt": problem.prompt, "checker": problem.checker}))
    (box.build_dir / "judge-inputs").write_bytes(encode_all([len(cases), *(c.args for c in cases)]))
    (box.build_dir / "expected").write_bytes(encode_all([c.expected for c in cases]))
    (box.build_dir / "judged-results").write_bytes(results)
    argv = [interpreter, "-I", "-B", str(box.build_dir / "judge.py"), str(box.build_dir / "judge.json")]
    argv += [str(box.build_dir / name) for name in ("judge-inputs", "expected", "judged-results")]
    run = await box.run(argv, _JUDGE_LIMITS)
    words = run.stdout.split()
    if not run.succeeded or len(words) != 3 or words[0] != "JUDGED":
        why = run.stdout.strip() or run.stderr.strip()[-500:] or "no verdict"
        return HarnessRun(Outcome.TEST_FAILED, timed.call_ns, timed.peak_rss_kb, f"results not accepted: {why}")
    first_rejected = int(words[2])
    if first_rejected >= 0:
        case = cases[first_rejected]
        detail = f"wrong result on a level-{case.level} input (size {case.size})"
        return HarnessRun(Outcome.TEST_FAILED, timed.call_ns, timed.peak_rss_kb, detail, first_rejected)
    return timed


def _read_capped(path: Path) -> bytes | None:
    try:
        if path.stat().st_size > _MAX_RESULTS:
            return None
        return path.read_bytes()
    except OSError:
        return None
