"""A proposed change to a user's file: run the pipeline on one function, then offer the result as a diff.

The user's file is only written by `apply`, and only if it still holds exactly what the run started from.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import FailedError, PerfOrchError
from .models import UsageLedger
from .pipeline import Pipeline
from .rankings.router import Router
from .run import ProgressEvent, Result
from .stubs import FunctionNotFound, FunctionSpan, find_function, is_stub
from .task import Task, language_of_path
from .workspace import Workspace


class ProposalError(PerfOrchError):
    """The request cannot be carried out as asked (wrong line, stub vs finished function, ...)."""


class FileChanged(FailedError):
    """The file was edited after the run started; applying would overwrite that edit."""


@dataclass
class Proposal:
    kind: str  # "generate" or "optimize"
    file: Path
    function: str
    original: str
    result: Result
    digest: str  # sha256 of the file's bytes when the run started

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


def read_function(file: Path, line: int, text: str | None = None) -> tuple[str, str, FunctionSpan]:
    """(language, text, span) of the function spanning the 1-based line; `text` is the editor's copy of the
    file when it has unsaved changes, else the file is read."""
    language = language_of_path(str(file))
    if text is None:
        try:
            text = file.read_bytes().decode("utf-8")  # bytes, so CRLF line endings survive
        except FileNotFoundError as exc:
            raise ProposalError(f"{file}: no such file") from exc
        except UnicodeDecodeError as exc:
            raise ProposalError(f"{file}: not UTF-8 text ({exc})") from exc
    try:
        span = find_function(text, language, line=line - 1)
    except FunctionNotFound as exc:
        raise ProposalError(f"{file}:{line}: no function spans this line ({exc})") from exc
    return language, text, span


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
) -> Proposal:
    """Run `generate` (fill a stub) or `optimize` (refine a finished function) on the function at `line`,
    asking the models `router` names (NoModelError, saying why, when it names none).

    `text` is the file as the editor holds it; by default the file on disk. Either way the proposal
    remembers what it started from, so a later edit is never overwritten. `ledger` collects the usage of
    every model call, also when the run is cancelled (a language server's session totals)."""
    router.check()
    file = file.resolve()
    language, text, span = read_function(file, line, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    stub = is_stub(span, language)
    if kind == "generate" and not stub:
        raise ProposalError(f"{file.name}:{line}: `{span.name}` already has a body; use `perforch optimize` on it")
    if kind == "optimize" and stub:
        raise ProposalError(f"{file.name}:{line}: `{span.name}` is a stub; use `perforch generate` first")
    workspace = Workspace.open(file, config)
    await workspace.prepare()
    validator = workspace.validator(span.name, config.limits())
    task = Task(language, span.name, text, visible_test="", task_id=f"{file}:{line}")
    pipeline = Pipeline(
        config.gateway(ledger), router, config.pipeline, on_progress=on_progress, on_finished=router.learn
    )
    run = pipeline.run if kind == "generate" else pipeline.optimize
    result = await run(task, validator)
    return Proposal(kind, file, span.name, text, result, digest)


def apply(proposal: Proposal) -> None:
    """Write the proposed text, atomically, unless the file changed since the run started."""
    new_text = proposal.proposed
    if new_text is None:
        raise ProposalError("nothing to apply: no passing change was found")
    if _digest(proposal.file) != proposal.digest:  # also refuses unsaved editor text that differs on disk
        raise FileChanged(f"{proposal.file} was edited after the run started; it was not overwritten")
    mode = proposal.file.stat().st_mode
    handle, temp = tempfile.mkstemp(dir=proposal.file.parent, prefix=f".{proposal.file.name}.", suffix=".perforch")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(new_text)
        os.chmod(temp, mode)
        os.replace(temp, proposal.file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _digest(file: Path) -> str:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except FileNotFoundError as exc:
        raise ProposalError(f"{file}: no such file") from exc
