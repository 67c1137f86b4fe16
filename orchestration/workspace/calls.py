"""The calls a project's tests made to an instrumented function (see `ProjectLanguage.timed_files`): read from
the file the timer wrote, turned into the function's own time per test, and compared with the calls the
version being refined made, so a faster version must also return what it returned.

Every language's timer writes one line per outermost call: test, nanoseconds, arguments, result, separated by
tabs, with backslash, tab and newline escaped; a value is "=" and its text, "#" and a digest of a long text,
or "!" when the language could not render it."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..task import Timing

CALLS_VARIABLE = "PERFORCH_CALLS"  # the environment variable naming the calls file
# An address in a rendered value (`<Node at 0x7f...>`, Go's `(*int)(0xc000...)`, Java's `Node@1b6d3586`): differs
# from run to run.
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}|\w@[0-9a-f]{5,8}\b")
_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_SHOWN_CHARS = 300


@dataclass(frozen=True)
class Call:
    test: str
    nanoseconds: int
    arguments: str  # as recorded: "=text", "#digest" or "!"
    result: str

    @property
    def comparable(self) -> bool:
        """Both values rendered, without an address in them: a result that must be reproduced."""
        return all(v[:1] in ("=", "#") and not _ADDRESS.search(v) for v in (self.arguments, self.result))


def read_calls(path: Path) -> list[Call]:
    """The calls recorded in `path` (none when the file is missing: the function was not called)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    calls = []
    for line in lines:
        fields = [_unescape(field) for field in line.split("\t")]
        if len(fields) == 4 and fields[1].isdigit():  # a line cut short by a killed process is left out
            calls.append(Call(fields[0], int(fields[1]), fields[2], fields[3]))
    return calls


def _unescape(field: str) -> str:
    return re.sub(r"\\(.)", lambda m: _UNESCAPED.get(m.group(1), m.group(1)), field)


def nanoseconds_per_test(calls: Sequence[Call]) -> dict[str, int]:
    """The function's own time in each test of one run: the sum of its outermost calls there."""
    totals: dict[str, int] = {}
    for call in calls:
        totals[call.test] = totals.get(call.test, 0) + call.nanoseconds
    return totals


def function_timing(runs: Sequence[Sequence[Call]]) -> Timing:
    """Per test (sorted by name), the function's own nanoseconds in each run; empty when a run made no call."""
    per_run = [nanoseconds_per_test(calls) for calls in runs]
    if not per_run or not all(per_run):
        return Timing()
    tests = sorted(set().union(*per_run))
    samples = tuple(tuple(run.get(test, 0) for run in per_run) for test in tests)
    return Timing(call_ns=samples, case_names=tuple(tests))


def behaviour_change(function: str, reference: Sequence[Call], calls: Sequence[Call]) -> str | None:
    """Why `calls` do not behave as `reference` did: the first call with arguments the reference saw whose result
    differs; None when every such call returned the same."""
    expected = {call.arguments: call.result for call in reference if call.comparable}
    for call in calls:
        wanted = expected.get(call.arguments)
        if call.comparable and wanted is not None and wanted != call.result:
            return (
                f"{call.test}: {function}({_shown(call.arguments)}) returned {_shown(call.result)}, but the version "
                f"being refined returned {_shown(wanted)} for the same arguments. A faster version must return "
                "the same result for every call the tests make, also where they do not check it."
            )
    return None


def _shown(value: str) -> str:
    if value.startswith("#"):
        return f"a value too long to show (digest {value[1:13]})"
    text = value[1:]
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def shown_seconds(seconds: float) -> str:
    """A function's time as a person reads it: 234.6 ms, 32.1 µs."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds * 1e9:.0f} ns"


def per_test_medians(timing: Timing) -> dict[str, float]:
    """Seconds: the median of each test's runs."""
    return {name: statistics.median(ns) / 1e9 for name, ns in zip(timing.case_names, timing.call_ns, strict=True) if ns}
