"""The vocabulary every part of the engine shares: tasks, programs, verdicts and timings (languages are in
languages/, the registry)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from enum import Enum

STAGES: tuple[str, ...] = ("categorize", "generate", "debug", "refine")
ANY_CATEGORY = "*"  # a language's overall row, over every category of problem


@dataclass(frozen=True)
class Task:
    """One function to write.

    `source` is the whole file with the stub in place; the model's answer is spliced into it.
    `visible_test` is the only test the pipeline may run and show to models (never the hidden one).
    `statement`, when set, is a problem told in words with its examples (EffiBench-X): models see it instead of
    a file, and an answer's code is the whole submission (a program, or the starter code completed), not
    spliced into `source`.
    """

    language: str
    entry_point: str
    source: str
    visible_test: str
    test_setup: str = ""
    task_id: str = ""
    statement: str = ""

    @property
    def problem_text(self) -> str:
        """What the problem says: its statement, else the file with the stub (a category's keywords are read here)."""
        return self.statement or self.source


@dataclass(frozen=True)
class Program:
    """A complete candidate program as a toolchain receives it: solution file plus test code."""

    language: str
    source: str
    test: str
    test_setup: str = ""


class Outcome(str, Enum):
    PASSED = "passed"
    COMPILE_ERROR = "compile_error"
    TEST_FAILED = "test_failed"  # an assertion failed or the program crashed
    TIMEOUT = "timeout"
    RESOURCE_LIMIT = "resource_limit"  # memory, output size or process count exceeded
    INVALID = "invalid"  # no usable candidate: unparsable answer, wrong language, splice refused


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    diagnostics: str = ""  # trimmed compiler / test output, safe to show a model
    seconds: float = 0.0  # wall time from candidate to verdict
    tests_run: int | None = None  # None when the runner does not say; never claim a pass when 0 ran
    tests_passed: int | None = None
    tests_source: str = ""  # what was run, e.g. "pytest tests/test_core.py -k count_vowels"

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


@dataclass(frozen=True)
class Timing:
    """How long a version took, as repeated measurements of the same work.

    Either `call_ns`: per case (one input), the nanoseconds of each timed call of the function in-process
    (efficiency harness, workspace mode's instrumented calls); or `cpu_seconds`: CPU seconds (user + sys,
    from rusage) of repeated whole test runs after warm-up. efficiency/verdict.py compares two Timings.
    """

    cpu_seconds: tuple[float, ...] = field(default_factory=tuple)
    call_ns: tuple[tuple[int, ...], ...] = field(default_factory=tuple)
    peak_rss_kb: int | None = None
    # Set when one harness run timed several versions taking turns call by call: the i-th calls of two
    # Timings with the same non-empty run_id met the same load, so the verdict compares them as pairs.
    run_id: str = ""
    # Set when the run hit its deadline before finishing: a lower bound on the time, not a measurement.
    cut_off_ns: int = 0
    # Workspace mode: the test each case is; its samples are the function's own ns in each run of that test.
    case_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cases(self) -> tuple[tuple[float, ...], ...]:
        """The measurements, per case, in seconds (whole test runs count as one case)."""
        if self.call_ns:
            return tuple(tuple(ns / 1e9 for ns in calls) for calls in self.call_ns)
        return (self.cpu_seconds,) if self.cpu_seconds else ()

    @property
    def median(self) -> float:
        """Seconds: the sum over cases of each case's median (0.0 when nothing was measured)."""
        return sum(statistics.median(calls) for calls in self.cases if calls)


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 10.0  # one run of the tests
    memory_mb: int = 1024
    output_bytes: int = 8 * 1024 * 1024  # also the largest file the program may write
    processes: int = 64  # processes and threads of the tested program
    build_seconds: float = 60.0  # compiling; separate because a cold compiler cache is slow, not wrong
