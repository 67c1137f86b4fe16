"""From the finished steps of a candidate's run to a Verdict: outcome, counts and the diagnostics a model
can act on (the failing assertion, the first compiler errors), with the shadow copy's paths made relative."""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from pathlib import Path

from ..checking.diagnostics import compiler_excerpt, failure_excerpt, head, out_of_memory_reason, with_output
from ..checking.sandbox import Completed
from ..task import Limits, Outcome, Verdict
from .project import Command, ProjectLanguage
from .reports import Tally
from .steps import deadline

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FAILURES_SHOWN = 3


class Scrubber:
    """Output as the user and a model should see it: no colour codes, paths relative to the workspace."""

    def __init__(self, *directories: Path) -> None:
        self._directories = sorted({str(d) for d in directories}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = _ANSI_ESCAPE.sub("", text)
        for directory in self._directories:
            text = text.replace(f"{directory}/", "").replace(directory, ".")
        return text


def build_failure(command: Command, run: Completed, limits: Limits, scrub: Scrubber) -> Verdict | None:
    if run.timed_out:
        return Verdict(Outcome.TIMEOUT, f"building took longer than {deadline(command, limits):g} s", tests_run=0)
    if not run.succeeded:
        return Verdict(Outcome.COMPILE_ERROR, compiler_excerpt(scrub(run.output)), tests_run=0, tests_passed=0)
    return None


def test_verdict(
    language: ProjectLanguage,
    steps: Sequence[tuple[Command, Completed]],
    tally: Tally | None,
    limits: Limits,
    scrub: Scrubber,
) -> Verdict:
    counts = {"tests_run": tally.run, "tests_passed": tally.passed} if tally else {}
    output = scrub("\n".join(run.output for _, run in steps))
    for command, run in steps:
        if run.timed_out or run.signal == signal.SIGXCPU:
            what = "building and running the tests" if command.phase == "build+test" else "the tests ran"
            reason = f"{what} took longer than {deadline(command, limits):g} s"
            return Verdict(Outcome.TIMEOUT, with_output(reason, output), **counts)
        if run.signal == signal.SIGXFSZ or run.output_capped:
            return Verdict(Outcome.RESOURCE_LIMIT, with_output("wrote too much output", output), **counts)
    failed = [(command, run) for command, run in steps if not run.succeeded]
    if failed:
        return _failure(language, failed, tally, limits, scrub, counts)
    if tally is not None and tally.run == 0:
        return Verdict(Outcome.TEST_FAILED, with_output("no test ran", output), **counts)
    if tally is not None and tally.passed < tally.run:
        return Verdict(Outcome.TEST_FAILED, _failures(tally, output, language, scrub), **counts)
    return Verdict(Outcome.PASSED, **counts)


def _failure(
    language: ProjectLanguage,
    failed: Sequence[tuple[Command, Completed]],
    tally: Tally | None,
    limits: Limits,
    scrub: Scrubber,
    counts: dict[str, int],
) -> Verdict:
    output = scrub("\n".join(run.output for _, run in failed))
    nothing_ran = tally is None or tally.run == 0
    if nothing_ran and language.compile_failure and language.compile_failure.search(output):
        return Verdict(Outcome.COMPILE_ERROR, compiler_excerpt(output), tests_run=0, tests_passed=0)
    out_of_memory = out_of_memory_reason(output, language.spec.out_of_memory, limits)
    if out_of_memory:
        return Verdict(Outcome.RESOURCE_LIMIT, with_output(out_of_memory, output), **counts)
    return Verdict(Outcome.TEST_FAILED, _failures(tally, output, language, scrub), **counts)


def _failures(tally: Tally | None, output: str, language: ProjectLanguage, scrub: Scrubber) -> str:
    """The failing tests as the reports describe them, else the runner's output from the first failure."""
    if tally is not None and tally.failures:
        shown = scrub("\n\n".join(tally.failures[:_FAILURES_SHOWN]))
        more = len(tally.failures) - _FAILURES_SHOWN
        return head(shown + (f"\n\n[{more} more failing tests]" if more > 0 else ""))
    return failure_excerpt(output, language.failure_start)
