"""How many tests ran and passed, read from JUnit XML reports or from a runner's closing lines."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_FAILURE_CHARS = 600  # of each failing test's message and details


@dataclass(frozen=True)
class Tally:
    run: int
    passed: int
    failures: tuple[str, ...] = ()  # "test: message, details" of each failing test, where a report has them

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.run + other.run, self.passed + other.passed, self.failures + other.failures)


def junit_tally(locations: Iterable[Path], failure_start: re.Pattern[str] | None = None) -> Tally | None:
    """The tally of every JUnit XML report at `locations` (files, or dirs holding *.xml); None if none.
    A failing test's details start where `failure_start` first matches, if it does."""
    files = [report for location in locations for report in _xml_files(location)]
    tallies = [tally for tally in (_junit_file(report, failure_start) for report in files) if tally is not None]
    return sum(tallies[1:], tallies[0]) if tallies else None


def _xml_files(location: Path) -> list[Path]:
    if location.is_dir():
        return sorted(location.glob("*.xml"))
    return [location] if location.is_file() else []


def _junit_file(report: Path, failure_start: re.Pattern[str] | None) -> Tally | None:
    try:
        root = ElementTree.parse(report).getroot()
    except (ElementTree.ParseError, OSError):
        return None
    run = passed = 0
    failures = []
    for case in root.iter("testcase"):
        if case.find("skipped") is not None or case.get("status") in ("disabled", "notrun"):
            continue
        run += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            passed += 1
        else:
            failures.append(_failure_text(case, problem, failure_start))
    return Tally(run, passed, tuple(failures))


def _failure_text(case: ElementTree.Element, problem: ElementTree.Element, start: re.Pattern[str] | None) -> str:
    classname, name = case.get("classname") or "", case.get("name") or ""
    name = name if classname in ("", name) else f"{classname}.{name}"
    message = (problem.get("message") or "").strip()
    details = (problem.text or "").strip()
    if not details:  # ctest puts the test program's output beside the failure, not in it
        details = (case.findtext("system-out") or "").strip()
    found = start.search(details) if start else None
    details = details[details.rfind("\n", 0, found.start()) + 1 :] if found else details
    body = details if message and message in details else f"{message}\n{details}".strip()
    return f"{name}: {body[:_FAILURE_CHARS]}".strip()


# -- closing lines of the runners, for a [tests] command ---------------------------------------------------

_CARGO = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed", re.MULTILINE)
_GO_VERBOSE = re.compile(r"^--- (PASS|FAIL): ", re.MULTILINE)
_PYTEST = re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+) in [\d.]+s", re.MULTILINE)
_SUREFIRE = re.compile(r"Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)")
_CTEST = re.compile(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)")
_PLAIN = re.compile(r"^(?:\w+:\s*)?(\d+) passed, (\d+) failed(?:, \d+ skipped)?\s*$", re.MULTILINE)


def text_tally(output: str) -> Tally | None:
    """Counts from the closing lines of pytest, cargo test, go test -v, Maven, ctest, or a plain
    "N passed, N failed" line; None when the output has none of them."""
    for reader in (_cargo, _go, _pytest, _surefire, _ctest, _plain):
        tally = reader(output)
        if tally is not None:
            return tally
    return None


def _cargo(output: str) -> Tally | None:
    results = [(int(passed), int(failed)) for passed, failed in _CARGO.findall(output)]
    if not results:
        return None
    passed = sum(p for p, _ in results)
    return Tally(passed + sum(f for _, f in results), passed)


def _go(output: str) -> Tally | None:
    outcomes = _GO_VERBOSE.findall(output)
    return Tally(len(outcomes), outcomes.count("PASS")) if outcomes else None


def _pytest(output: str) -> Tally | None:
    summaries = _PYTEST.findall(output)
    if not summaries:
        return None
    counts = {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summaries[-1])}
    failed = counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0)
    return Tally(counts.get("passed", 0) + failed, counts.get("passed", 0))


def _surefire(output: str) -> Tally | None:
    totals = _SUREFIRE.findall(output)
    if not totals:
        return None
    run, failures, errors, skipped = map(int, totals[-1])  # the last one is Maven's total
    return Tally(run - skipped, run - skipped - failures - errors)


def _ctest(output: str) -> Tally | None:
    match = _CTEST.search(output)
    if match is None:
        return None
    total, failed = int(match.group(3)), int(match.group(2))
    return Tally(total, total - failed)


def _plain(output: str) -> Tally | None:
    lines = _PLAIN.findall(output)
    if not lines:
        return None
    passed, failed = map(int, lines[-1])
    return Tally(passed + failed, passed)
