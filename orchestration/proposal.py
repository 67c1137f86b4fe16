"""A proposed change to a user's file: run the pipeline on one function, then offer the result as a diff.

The user's file is only written by `apply`, and only if it still holds exactly what the run started from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import costs
from .config import Config
from .errors import PerfOrchError
from .failure import MODEL_ERRORS, cause_of
from .languages import UnsupportedLanguage, language_of_path
from .models import UsageLedger
from .pipeline import Pipeline
from .rankings.router import Router
from .redaction import excerpt
from .run import ProgressEvent, Result
from .stubs import FunctionNotFound, FunctionSpan, find_function, is_stub, syntax_error_outside
from .task import Task, Timing
from .workspace import Workspace, WorkspaceError
from .workspace.calls import per_test_medians, shown_seconds

log = logging.getLogger(__name__)


class ProposalError(PerfOrchError):
    """The request cannot be carried out as asked (wrong line, stub vs finished function, ...)."""


class ApplyRefused(PerfOrchError):
    """The proposal was not written; the message says why and what to do."""


class FileChanged(ApplyRefused):
    """The file was edited after the run started; applying would overwrite that edit."""


class NotWritable(ApplyRefused):
    """The file is read-only, or not the user's to write."""


@dataclass
class Proposal:
    kind: str  # "generate" or "optimize"
    file: Path
    function: str
    original: str
    result: Result
    digest: str  # sha256 of the file's bytes when the run started
    on_choice: Callable[[Result, bool], Awaitable[None]] | None = None  # the learner (Router.learn_choice)
    credited: dict[str, str] = field(default_factory=dict)  # stage -> model whose output the user already took

    async def chosen(self, accepted: bool) -> None:
        """The user accepted (applied) or rejected (discarded) the proposal: evidence for or against the models
        whose output it holds, but for those already credited. Learning is a side effect: it never fails the
        user's action."""
        if self.on_choice is None:
            return
        models = {stage: model for stage, model in self.result.models.items() if self.credited.get(stage) != model}
        try:
            await self.on_choice(dataclasses.replace(self.result, models=models), accepted)
        except Exception:
            log.exception("recording the user's choice failed")

    def after(self, accepted: Proposal) -> Proposal:
        """This version, proposed against the file as it became when the user accepted `accepted`, an earlier
        version of the same run: its diff is only the further change, and choosing it counts only for the models
        whose output `accepted` did not hold."""
        assert accepted.proposed is not None, "only a proposal that changed the file can have been accepted"
        credited = {**self.credited, **accepted.result.models}
        return dataclasses.replace(self, original=accepted.proposed, credited=credited)

    @property
    def proposed(self) -> str | None:
        """The new file text, if there is a passing version that differs from the original."""
        if not self.result.passed or self.result.source is None or self.result.source == self.original:
            return None
        return self.result.source

    def diff(self) -> str:
        if self.proposed is None:
            return ""
        name = self.file.name
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True), self.proposed.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
        return "".join(lines)

    def report(self, applied: bool = False, refused: str = "") -> dict:
        """The run as data: what `perforch generate|optimize --json` prints and the language server answers.
        `refused` says why a requested apply did not happen."""
        result, verdict = self.result, self.result.verdict
        cause = cause_of(result, self.original)
        return {
            "kind": self.kind,
            "file": str(self.file),
            "function": self.function,
            "language": result.language,
            "category": result.category,
            "passed": result.passed,
            "changed": self.proposed is not None,
            "applied": applied,
            "refused": refused,
            "models": result.models,
            "tests": {
                "run": verdict.tests_run if verdict else None,
                "passed": verdict.tests_passed if verdict else None,
                "source": verdict.tests_source if verdict else "",
            },
            "failure": "" if result.passed or verdict is None else excerpt(verdict.diagnostics),
            "cause": cause.as_json() if cause is not None else None,
            "speedup": self.speedup,
            "timing": timing_report(result.timing_before, result.timing_after),
            "cpu_seconds": self._seconds_before_after(),
            "tokens": result.tokens,
            "cost_usd": round(result.cost_usd, 6),
            "unpriced_calls": result.unpriced_calls,
            "unpriced": self.unpriced(),
            "stopped": result.stopped,
            "summary": self.summary(),
            "diff": self.diff(),
            "trace": [
                {
                    "stage": a.stage,
                    "model": a.model,
                    "attempt": a.attempt,
                    "status": a.status,
                    "detail": excerpt(a.detail, 500),
                    "seconds": round(a.seconds, 3),
                    "tokens": a.prompt_tokens + a.completion_tokens,
                    "cost_usd": round(a.cost_usd, 6) if a.priced else None,
                }
                for a in result.trace
            ],  # fmt: skip
        }

    @property
    def speedup(self) -> float | None:
        """The measured gain, only when the proposal is a faster version (1.00x is no speed-up)."""
        gain = self.result.speedup
        return gain if gain is not None and gain > 1.0 and "refine" in self.result.models else None

    def unpriced(self) -> list[str]:
        """The models that answered without a known price: the cost leaves them out."""
        return sorted({a.model for a in self.result.trace if a.status == "answered" and not a.priced})

    def cost(self) -> str:
        """`$0.0123`, `unpriced` (no model priced), or `$0.0123 + unpriced (local)`."""
        unpriced = self.unpriced()
        priced = any(a.priced and a.status == "answered" for a in self.result.trace)
        if unpriced and not priced:
            return "cost unpriced"
        money = costs.shown(self.result.cost_usd)  # the same dollars as every other cost; the models by name
        return f"{money} + unpriced ({', '.join(unpriced)})" if unpriced else money

    def summary(self) -> str:
        """One line for the user about the run: what passed, how fast, what it cost, which models."""
        result, verdict = self.result, self.result.verdict
        what = f"PerfOrch {self.kind} `{self.function}`"
        cost = f"{result.tokens} tokens, {self.cost()}"
        if result.stopped:  # a cap ended the run: the best version so far is what is offered
            cost += f"; {result.stopped}"
        models = ", ".join(f"{stage}: {model}" for stage, model in result.models.items()) or "no model"
        if not result.passed:
            return f"{what}: {self.why_nothing_passed()}; nothing to apply ({cost}; {models})"
        tested = "passed"
        if verdict is not None and verdict.tests_run is not None:
            tested = f"tests {verdict.tests_passed}/{verdict.tests_run} passed"
        if self.proposed is None:
            return f"{what}: no measurably faster version; nothing to apply ({tested}, {cost}; {models})"
        faster = f", {self.speedup:.2f}x faster" if self.speedup else ""
        own = _own_times(self.function, result.timing_before, result.timing_after) if self.speedup else ""
        return f"{what}: {tested}{faster}{own}, {cost} ({models})"

    def _seconds_before_after(self) -> list[float] | None:
        """The measured time (the function's own, or the tests') before and after, when it got faster."""
        before, after = self.result.timing_before, self.result.timing_after
        return [before.median, after.median] if self.speedup and before and after else None

    def why_nothing_passed(self) -> str:
        """Say "no passing version" only when a model answered; otherwise, what stopped the run before that."""
        cause = cause_of(self.result, self.original)
        if cause is None:
            return "passed"
        if cause.kind == "tests_fail_before":
            return cause.message
        if cause.kind in MODEL_ERRORS or cause.kind == "no_model":
            return f"no model answered ({cause.message})"
        return f"no passing version found ({cause.message})"


def timing_report(before: Timing | None, after: Timing | None) -> dict | None:
    """What was timed before and after refinement: the function's own time per test ("function"), or whole runs
    of the tests or the [bench] command ("tests"); seconds are medians over the runs. None when nothing was."""
    if before is None or after is None or not before.cases:
        return None
    report: dict = {"measured": "function" if before.call_ns else "tests"}
    report |= {"before_seconds": before.median, "after_seconds": after.median}
    if before.call_ns:
        earlier, later = per_test_medians(before), per_test_medians(after)
        report["tests"] = [
            {"test": test, "before_seconds": seconds, "after_seconds": later.get(test)}
            for test, seconds in earlier.items()
        ]
    return report


def _own_times(function: str, before: Timing | None, after: Timing | None) -> str:
    """ " (`f`'s own time: test 234.6 ms -> 32.1 µs)" for the summary line, when the function itself was timed."""
    if before is None or after is None or not before.call_ns or before is after:
        return ""
    later = per_test_medians(after)
    shown = [
        f"{test} {shown_seconds(seconds)} -> {shown_seconds(later[test])}"
        for test, seconds in per_test_medians(before).items()
        if test in later
    ]
    return f" (`{function}`'s own time: {'; '.join(shown)})" if shown else ""


def _first_line(detail: str) -> str:
    """As the report shows a detail: redacted and cut before its first line is taken."""
    lines = excerpt(detail, 500).splitlines()
    return lines[0] if lines else ""


def read_function(file: Path, line: int, text: str | None = None) -> tuple[str, str, FunctionSpan]:
    """(language, text, span) of the function spanning the 1-based line; `text` is the editor's copy of the
    file when it has unsaved changes, else the file is read."""
    if file.is_dir():
        raise ProposalError(
            f"{file} is a directory: give the source file that holds the function, and a line inside it "
            "(for example `perforch generate src/lib.rs --line 12`)"
        )
    try:
        language = language_of_path(str(file))
    except UnsupportedLanguage:
        raise ProposalError(
            f"{file}: PerfOrch does not know the language of `{file.suffix or file.name}` files "
            "(Python .py, Java .java, C++ .cpp/.cc/.cxx/.h/.hpp, Go .go, Rust .rs)"
        ) from None
    if text is None:
        try:
            text = file.read_bytes().decode("utf-8")  # bytes, so CRLF line endings survive
        except FileNotFoundError as exc:
            raise ProposalError(f"{file}: no such file") from exc
        except UnicodeDecodeError as exc:
            raise ProposalError(f"{file}: not UTF-8 text ({exc})") from exc
    _check_line(file, line, len(text.splitlines()))
    try:
        span = find_function(text, language, line=line - 1)
    except FunctionNotFound:
        raise ProposalError(
            f"{file}:{line}: no function spans this line; give a line of the function's signature or body"
        ) from None
    return language, text, span


def _check_line(file: Path, line: int, count: int) -> None:
    if 1 <= line <= count:
        return
    numbered = "lines are numbered from 1" if line < 1 else "past the end of the file"
    raise ProposalError(f"line {line} is not in {file}: {numbered}, and it has {count} lines (1 to {count})")


def check_syntax(file: Path, language: str, text: str, span: FunctionSpan) -> None:
    """ProposalError when the file does not parse outside the function: every candidate would fail to build
    for a reason that is not the model's, so no model is asked."""
    error = syntax_error_outside(text, language, span.start_byte, span.end_byte)
    if error is None:
        return
    expected = f" ({error.expected})" if error.expected else ""
    raise ProposalError(
        f"{file}:{error.line}:{error.column}: syntax error{expected} outside `{span.name}`, in `{error.text}`; "
        f"fix it first: every candidate is built with the whole file, so no model was asked"
    )


async def propose(
    kind: str,
    file: Path,
    line: int,
    config: Config,
    router: Router,
    *,
    text: str | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    ledger: UsageLedger | None = None,
    on_estimate: Callable[[costs.JobEstimate], None] | None = None,
    on_offer: Callable[[Proposal], None] | None = None,
) -> Proposal:
    """Run `generate` (fill a stub) or `optimize` (refine a finished function) on the function at `line`,
    asking the models `router` names (NoModelToAsk, saying why, when it names none).

    `text` is the file as the editor holds it; by default the file on disk. Either way the proposal
    remembers what it started from, so a later edit is never overwritten. `ledger` collects the usage of
    every model call, also when the run is cancelled (a language server's session totals). `on_estimate` gets
    the run's expected cost before the first call. `on_offer` gets each better version while the run goes on
    (the first passing one before refinement, then each faster one), as a proposal of its own."""
    file = file.resolve()
    language, text, span = read_function(file, line, text)
    check_syntax(file, language, text, span)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    stub = is_stub(span, language)
    if kind == "generate" and not stub:
        raise ProposalError(f"{file.name}:{line}: `{span.name}` already has a body; use `perforch optimize` on it")
    if kind == "optimize" and stub:
        raise ProposalError(f"{file.name}:{line}: `{span.name}` is a stub; use `perforch generate` first")
    router.check()  # before the workspace is prepared: refuse early, spend nothing
    try:
        workspace = Workspace.open(file, config)
    except WorkspaceError as exc:  # not in a project PerfOrch can test: the request cannot be carried out
        raise ProposalError(str(exc)) from None
    await workspace.prepare()
    on_progress, on_run = _with_timed_runs(on_progress)
    validator = workspace.validator(span.name, config.limits(), on_run=on_run)
    task = Task(language, span.name, text, visible_test="", task_id=f"{file}:{line}")

    def offered(snapshot: Result) -> None:
        if on_offer is not None:
            on_offer(Proposal(kind, file, span.name, text, snapshot, digest, router.learn_choice))

    pipeline = Pipeline(
        config.gateway(ledger), router, config.pipeline, on_progress=on_progress, on_finished=router.learn,
        on_version=offered if on_offer is not None else None,
    )  # fmt: skip
    if on_estimate is not None:
        on_estimate(pipeline.estimate(task))
    run = pipeline.run if kind == "generate" else pipeline.optimize
    result = await run(task, validator)
    return Proposal(kind, file, span.name, text, result, digest, router.learn_choice)


def _with_timed_runs(
    on_progress: Callable[[ProgressEvent], None] | None,
) -> tuple[Callable[[ProgressEvent], None] | None, Callable[[int, int], None] | None]:
    """The progress callback, and a validator's timed-run callback that reports each run as part of the
    measurement the pipeline said it started: `timing the original, run 3 of 5`."""
    if on_progress is None:
        return None, None
    measuring: list[ProgressEvent] = []

    def progress(event: ProgressEvent) -> None:
        if event.status == "measuring":
            measuring[:] = [event]
        on_progress(event)

    def timed_run(number: int, runs: int) -> None:
        if measuring:
            last = measuring[0]
            detail = f"{last.detail}, run {number} of {runs}"
            on_progress(ProgressEvent(last.stage, last.model, last.attempt, "measuring", detail))

    return progress, timed_run


def apply(proposal: Proposal) -> None:
    """Write the proposed text, atomically, unless the file changed since the run started or is not writable.
    The file keeps its mode, and its owner when PerfOrch runs as someone else (root)."""
    new_text = proposal.proposed
    if new_text is None:
        raise ProposalError("nothing to apply: no passing change was found")
    if _digest(proposal.file) != proposal.digest:  # also refuses unsaved editor text that differs on disk
        raise FileChanged(f"{proposal.file} was edited after the run started; it was not overwritten")
    check_writable(proposal.file)
    status = proposal.file.stat()
    handle, temp = tempfile.mkstemp(dir=proposal.file.parent, prefix=f".{proposal.file.name}.", suffix=".perforch")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(new_text)
        os.chmod(temp, stat.S_IMODE(status.st_mode))
        _keep_owner(Path(temp), proposal.file, status)
        os.replace(temp, proposal.file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _keep_owner(temp: Path, file: Path, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group: a replaced file must not become root's."""
    if status.st_uid != os.geteuid():
        try:
            os.chown(temp, status.st_uid, status.st_gid)
        except PermissionError:
            raise NotWritable(
                f"{file} belongs to another user (uid {status.st_uid}), and the new file could not be given that "
                "owner; it was not changed: apply it as that user"
            ) from None
    elif status.st_gid != os.getegid():
        with contextlib.suppress(PermissionError):  # a group we are not in: the directory's default stays
            os.chown(temp, -1, status.st_gid)


def check_writable(file: Path) -> None:
    """NotWritable when the file is read-only (to anyone: root may write it, but the user said no) or not ours
    to write."""
    try:
        mode = file.stat().st_mode
    except FileNotFoundError as exc:
        raise ProposalError(f"{file}: no such file") from exc
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(file, os.W_OK):
        raise NotWritable(
            f"{file} is read-only (mode {stat.filemode(mode)}); it was not changed: make it writable "
            f"(chmod u+w) and apply again"
        )


def _digest(file: Path) -> str:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except FileNotFoundError as exc:
        raise ProposalError(f"{file}: no such file") from exc
