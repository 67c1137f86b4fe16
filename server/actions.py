"""What the server does besides speaking LSP: code actions, generate/optimize jobs, proposals and their
application, rankings and status. The handlers in app.py call these; the engine does the real work.

A job is an asyncio task running the engine's `propose`. Cancelling it closes the model's HTTP request and
kills the sandbox's processes (the engine does that on cancellation). A finished job leaves a proposal here,
under an id, until it is applied or discarded.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter
from perforch.orchestration.cli import job_report, why_nothing_passed
from perforch.orchestration.errors import PerfOrchError
from perforch.orchestration.languages import UnsupportedLanguage, check_language, language_of_path
from perforch.orchestration.models import UsageLedger, UsageTotals
from perforch.orchestration.redaction import excerpt, redact
from perforch.orchestration.stubs import FunctionIndex, FunctionNotFound, FunctionSpan, is_stub
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from .settings import Settings, checked_engine_config, engine_config

log = logging.getLogger(__name__)

GENERATE, OPTIMIZE = "perforch.generate", "perforch.optimize"
APPLY, DISCARD = "perforch.apply", "perforch.discard"
RANKINGS, STATUS = "perforch/rankings", "perforch/status"
ACTION_KIND = "refactor.rewrite.perforch"
TITLES = {"generate": "Generate with PerfOrch", "optimize": "Optimize performance with PerfOrch"}
_COMMANDS = {"generate": GENERATE, "optimize": OPTIMIZE}
_ANNOTATION = "perforch"
MAX_PROPOSALS = 32


class Refused(PerfOrchError):
    """A request the server will not carry out as asked; the message tells the user why."""


# -- code actions ----------------------------------------------------------------------------------------


class FunctionLookup:
    """Which function spans a line: one parse per version of a document, however often the cursor moves."""

    def __init__(self, documents: int = 8) -> None:
        self._indexes: OrderedDict[str, tuple[int, FunctionIndex]] = OrderedDict()
        self._documents = documents

    def at(self, document: TextDocument, line: int) -> tuple[FunctionSpan, bool] | None:
        """(function, is it a stub) at the 0-based line, or None outside functions and supported languages."""
        try:
            language = language_of_path(document.path)
        except UnsupportedLanguage:
            return None
        try:
            span = self._index(document, language).at(line)
        except FunctionNotFound:
            return None
        return span, is_stub(span, language)

    def _index(self, document: TextDocument, language: str) -> FunctionIndex:
        if document.version is None:  # a file not open in the editor: disk may change under any cache
            return FunctionIndex(document.source, language)
        cached = self._indexes.get(document.uri)
        if cached is None or cached[0] != document.version:
            cached = (document.version, FunctionIndex(document.source, language))
            self._indexes[document.uri] = cached
        self._indexes.move_to_end(document.uri)
        while len(self._indexes) > self._documents:
            self._indexes.popitem(last=False)
        return cached[1]

    def forget(self, uri: str) -> None:
        self._indexes.pop(uri, None)


def code_actions(
    lookup: FunctionLookup, document: TextDocument, position: types.Position, only: list[str] | None
) -> list[types.CodeAction]:
    """Generate on a stub, optimize on a finished function, nothing elsewhere. No model call, no build."""
    if only and not any(ACTION_KIND.startswith(kind) for kind in only):
        return []
    found = lookup.at(document, position.line)
    if found is None:
        return []
    _, stub = found
    kind = "generate" if stub else "optimize"
    arguments = [document.uri, {"line": position.line, "character": 0}, document.version]
    command = types.Command(title=TITLES[kind], command=_COMMANDS[kind], arguments=arguments)
    return [types.CodeAction(title=TITLES[kind], kind=ACTION_KIND, command=command)]


# -- jobs ------------------------------------------------------------------------------------------------


@dataclass
class Job:
    id: str
    kind: str
    uri: str
    function: str
    version: int | None
    request: Any  # the executeCommand request's id, which $/cancelRequest names
    task: asyncio.Task | None = None
    stage: str = ""
    model: str = ""
    started: float = field(default_factory=time.monotonic)
    usage: UsageLedger = field(default_factory=UsageLedger)  # per job: [pipeline] token_budget is per run


@dataclass
class Stored:
    """A finished job's proposal, waiting to be applied."""

    id: str
    uri: str
    version: int | None  # of the document the job started from
    proposal: Any  # perforch.orchestration.proposal.Proposal


class Session:
    """Everything the server remembers between requests."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.root: Path | None = None
        self.init_options: Any = None
        self.pushed: Any = None  # settings sent with workspace/didChangeConfiguration
        self.problems: set[str] = set()  # with the settings in force, already shown to the user
        self.functions = FunctionLookup()
        self.jobs: dict[str, Job] = {}
        self.proposals: dict[str, Stored] = {}
        self.usage: list[UsageLedger] = []  # every job's model calls, cancelled jobs' included
        self.background: set[asyncio.Task] = set()  # apply prompts: kept so they are not collected
        self._ids = itertools.count(1)

    def totals(self) -> UsageTotals:
        return UsageTotals.of(usage for ledger in self.usage for usage in ledger.records)

    def keep(self, stored: Stored) -> None:
        """Hold a proposal until it is applied or discarded; the oldest beyond MAX_PROPOSALS are forgotten
        (a client that never answers must not grow the server without bound)."""
        self.proposals[stored.id] = stored
        while len(self.proposals) > MAX_PROPOSALS:
            oldest = next(iter(self.proposals))
            log.info("proposal %s forgotten: more than %d were waiting", oldest, MAX_PROPOSALS)
            del self.proposals[oldest]

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def cancel_request(self, request: Any) -> None:
        """$/cancelRequest for a generate/optimize command: end its job."""
        for job in self.jobs.values():
            if job.request == request and job.task is not None:
                log.info("job %s (%s `%s`) cancelled by the client", job.id, job.kind, job.function)
                job.task.cancel()

    async def cancel_all(self) -> None:
        tasks = [job.task for job in self.jobs.values() if job.task is not None] + list(self.background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class JobProgress:
    """Work done progress for one job, cancellable from the client's UI: on the token the client sent with
    the command (it shows the progress its own way), else on one the server creates, if the client can."""

    def __init__(self, ls: LanguageServer, token: types.ProgressToken, from_client: bool) -> None:
        self.ls = ls
        self.token = token
        self.from_client = from_client
        self.shown = False  # reports before the client has the token would be refused

    async def begin(self, title: str, on_cancel: Callable[[], None]) -> None:
        if not self.from_client and not await self._create():
            return
        # begin() registers the future that window/workDoneProgress/cancel cancels.
        self.ls.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(title=title, cancellable=True))
        self.ls.work_done_progress.tokens[self.token].add_done_callback(lambda f: f.cancelled() and on_cancel())
        self.shown = True

    async def _create(self) -> bool:
        window = self.ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return False
        try:
            await self.ls.work_done_progress.create_async(self.token)
        except Exception as exc:  # no progress then; the job runs all the same
            log.info("no progress for %s: %s", self.token, exc)
            return False
        return True

    def report(self, message: str) -> None:
        if self.shown:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self.shown:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)  # pygls keeps them otherwise
            self.shown = False


async def run_job(
    ls: LanguageServer,
    session: Session,
    kind: str,
    uri: str,
    position: types.Position,
    version: int | None,
    work_done_token: types.ProgressToken | None = None,
) -> dict:
    """Run generate or optimize on the function at `position`, with progress (on the client's token, if it
    sent one), until done or cancelled."""
    from perforch.orchestration.proposal import propose  # the pipeline: not needed to start
    from perforch.orchestration.rankings.router import Router

    document = ls.workspace.get_text_document(uri)
    if version is not None and document.version is not None and document.version != version:
        raise Refused("the document changed since the action was offered; ask for the action again")
    span = _function_for(session, document, position.line, kind)
    file = Path(document.path)
    config = engine_config(session.settings, file, session.root)
    router = Router.configured(config, session.settings.profile or None)
    job = Job(session.next_id("job"), kind, uri, span.name, document.version, ls.protocol.msg_id)
    from_client = work_done_token is not None
    progress = JobProgress(ls, work_done_token if from_client else f"perforch-{job.id}", from_client)

    def on_progress(event: Any) -> None:
        job.stage, job.model = event.stage, event.model
        progress.report(_describe(event))

    work = propose(
        kind, file, position.line + 1, config, router, text=document.source, on_progress=on_progress,
        ledger=job.usage,
    )  # fmt: skip
    # The task exists before anything is awaited: a cancel that arrives at any point finds it.
    job.task = asyncio.create_task(work, name=job.id)
    session.jobs[job.id] = job
    session.usage.append(job.usage)
    log.info("job %s: %s `%s` in %s", job.id, kind, span.name, file)
    try:
        await progress.begin(f"PerfOrch: {kind} {span.name}", job.task.cancel)
        await _finished(job.task)
    finally:
        session.jobs.pop(job.id, None)
        progress.end(_ending(job.task))
    if job.task.cancelled():
        return {"status": "cancelled", "job": job.id}
    return _store(ls, session, job, job.task.result())


def _function_for(session: Session, document: TextDocument, line: int, kind: str) -> FunctionSpan:
    found = session.functions.at(document, line)
    if found is None:
        raise Refused(f"{Path(document.path).name}:{line + 1}: no function of a supported language spans this line")
    span, stub = found
    if kind == "generate" and not stub:
        raise Refused(f"`{span.name}` already has a body: optimize it instead")
    if kind == "optimize" and stub:
        raise Refused(f"`{span.name}` is a stub: generate it first")
    running = [job for job in session.jobs.values() if job.uri == document.uri and job.function == span.name]
    if running:
        raise Refused(f"`{span.name}` already has a job running ({running[0].id}); cancel it or wait")
    if len(session.jobs) >= session.settings.max_jobs:
        raise Refused(f"{len(session.jobs)} jobs are running (maxJobs); wait for one to finish or cancel one")
    return span


async def _finished(task: asyncio.Task) -> None:
    """Wait for the job. If this handler is cancelled instead (shutdown), the job goes with it."""
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        task.cancel()
        raise


def _describe(event: Any) -> str:
    model = f" {event.model}" if event.model else ""
    # Redacted before it is cut: a cut could leave part of a secret that no longer matches.
    detail = excerpt(event.detail).splitlines()[0][:80] if event.detail and event.status != "started" else ""
    return f"{event.stage}{model}: {event.status}" + (f" ({detail})" if detail else "")


def _ending(task: asyncio.Task) -> str:
    if not task.done() or task.cancelled():
        return "cancelled"
    if task.exception() is not None:
        return "failed"
    return "done" if task.result().result.passed else "no passing version"


def _store(ls: LanguageServer, session: Session, job: Job, proposal: Any) -> dict:
    """Keep a proposal that changes something, and describe it: the CLI's report plus the id and the edit."""
    stored, edit = None, None
    if proposal.proposed is not None:
        stored = Stored(session.next_id("p"), job.uri, job.version, proposal)
        session.keep(stored)
        edit = get_converter().unstructure(_workspace_edit(ls, stored, annotated=False))
    where = {"job": job.id, "id": stored.id if stored else None, "uri": job.uri, "version": job.version}
    return {"status": "done", **where, "edit": edit, **job_report(proposal, applied=False, refusal="")}


# -- proposals -------------------------------------------------------------------------------------------


async def apply(ls: LanguageServer, session: Session, proposal_id: str | None, direct: bool) -> dict:
    """Apply a proposal through workspace/applyEdit if its document is still as the job found it.

    Without `direct`, clients that can preview an edit (change annotations) are asked to show it first."""
    stored = _proposal(session, proposal_id)
    document = ls.workspace.get_text_document(stored.uri)
    if document.version != stored.version or document.source != stored.proposal.original:
        raise Refused(
            f"{Path(document.path).name} changed since the proposal {stored.id} was made (version "
            f"{stored.version}, now {document.version}); it was not applied: run PerfOrch again"
        )
    _check_writable(stored.proposal.file)
    edit = _workspace_edit(ls, stored, annotated=not direct)
    label = f"PerfOrch: {stored.proposal.kind} {stored.proposal.function}"
    answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
    if not answer.applied:
        reason = answer.failure_reason or "the editor did not apply the edit"
        return {"status": "refused", "id": stored.id, "applied": False, "refused": reason}
    session.proposals.pop(stored.id, None)
    return {"status": "applied", "id": stored.id, "applied": True, "refused": ""}


def _check_writable(file: Path) -> None:
    """Refused (an ApplyRefused), as `perforch generate --apply` refuses, when the file on disk is read-only."""
    from perforch.orchestration.proposal import check_writable

    check_writable(file)


async def discard(session: Session, proposal_id: str | None) -> dict:
    """Forget a proposal (the user rejected it); the document is not touched."""
    stored = _proposal(session, proposal_id)
    session.proposals.pop(stored.id)
    return {"status": "discarded", "id": stored.id}


def _proposal(session: Session, proposal_id: str | None) -> Stored:
    if proposal_id is None:  # the latest: what `:lsp-workspace-command perforch.apply` in Helix can send
        if not session.proposals:
            raise Refused("no proposal waiting: run generate or optimize first")
        return next(reversed(session.proposals.values()))
    if proposal_id not in session.proposals:
        raise Refused(f"no proposal {proposal_id!r}: it was applied, discarded or never made")
    return session.proposals[proposal_id]


def summary(result: dict) -> str:
    """One line for the user about a finished job: what passed, how fast, what it cost."""
    what = f"PerfOrch {result['kind']} `{result['function']}`"
    cost = f"{result['tokens']} tokens, ${result['cost_usd']:.4f}"
    tests = result["tests"]
    tested = f"tests {tests['passed']}/{tests['run']} passed" if tests["run"] is not None else "passed"
    if not result["passed"]:
        return f"{what}: {why_nothing_passed(result['trace'])}; nothing to apply ({cost})"
    if result["edit"] is None:
        return f"{what}: no measurably faster version; nothing to apply ({tested}, {cost})"
    faster = f", {result['speedup']:.2f}x faster" if result["speedup"] else ""
    return f"{what}: {tested}{faster}, {cost}"


# -- edits -----------------------------------------------------------------------------------------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # LSP's line breaks, not str.splitlines' many


def _workspace_edit(ls: LanguageServer, stored: Stored, *, annotated: bool) -> types.WorkspaceEdit:
    proposal = stored.proposal
    edit = replacement(proposal.original, proposal.proposed, ls.workspace.position_encoding)
    capabilities = ls.client_capabilities.workspace
    edits = capabilities.workspace_edit if capabilities is not None else None
    if edits is None or not edits.document_changes:
        return types.WorkspaceEdit(changes={stored.uri: [edit]})
    annotations = None
    if annotated and edits.change_annotation_support is not None:
        label = f"PerfOrch: {proposal.kind} {proposal.function}"
        annotations = {_ANNOTATION: types.ChangeAnnotation(label=label, needs_confirmation=True)}
        edit = types.AnnotatedTextEdit(range=edit.range, new_text=edit.new_text, annotation_id=_ANNOTATION)
    document = types.OptionalVersionedTextDocumentIdentifier(uri=stored.uri, version=stored.version)
    change = types.TextDocumentEdit(text_document=document, edits=[edit])
    return types.WorkspaceEdit(document_changes=[change], change_annotations=annotations)


def replacement(original: str, proposed: str, encoding: str = "utf-16") -> types.TextEdit:
    """One edit over the lines that differ, so the rest of the file (and the cursor in it) stays put."""
    old, new = _LINE.findall(original), _LINE.findall(proposed)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    if tail or not old or old[-1].endswith(("\n", "\r")):
        end = types.Position(line=len(old) - tail, character=0)
    else:  # the last line, without a line break, is replaced up to its end
        end = types.Position(line=len(old) - 1, character=_units(old[-1], encoding))
    text = "".join(new[head : len(new) - tail])
    return types.TextEdit(range=types.Range(start=types.Position(line=head, character=0), end=end), new_text=text)


def _units(text: str, encoding: str) -> int:
    """The length of `text` in the position encoding the client and server agreed on."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


# -- custom requests -------------------------------------------------------------------------------------


def rankings(session: Session, params: Any) -> dict:
    """The ranking in force (for one language, if asked), as `perforch rankings --json` shows it."""
    from perforch.orchestration.rankings.router import Router
    from perforch.orchestration.rankings.view import RankingsView

    params = _fields(params)
    config, _ = checked_engine_config(session.settings, None, session.root)
    view = RankingsView(Router.configured(config, params.get("profile") or session.settings.profile or None))
    language = params.get("language")
    languages = view.languages(check_language(language) if language else None)
    return view.as_json(languages, explain=bool(params.get("explain")))


def _fields(params: Any) -> dict:
    """A custom request's params as a dict: pygls hands them over as namedtuples."""
    if hasattr(params, "_asdict"):
        return params._asdict()
    return params if isinstance(params, dict) else {}


def status(session: Session) -> dict:
    """Jobs in flight, proposals waiting, and what the session's model calls have cost."""
    now = time.monotonic()
    jobs = [
        {"id": job.id, "kind": job.kind, "uri": job.uri, "function": job.function, "stage": job.stage,
         "model": job.model, "seconds": round(now - job.started, 1), "tokens": job.usage.tokens}
        for job in session.jobs.values()
    ]  # fmt: skip
    proposals = [
        {"id": s.id, "kind": s.proposal.kind, "uri": s.uri, "function": s.proposal.function, "version": s.version}
        for s in session.proposals.values()
    ]
    totals = session.totals()
    return {"jobs": jobs, "proposals": proposals, "tokens": totals.tokens, "cost_usd": round(totals.cost_usd, 6)}


# -- messages --------------------------------------------------------------------------------------------


def show(ls: LanguageServer, kind: types.MessageType, text: str) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=redact(text)))


async def reported(ls: LanguageServer, what: str, work: Awaitable[dict]) -> dict:
    """Run a command: a refusal becomes a warning, an exception an error message and a log entry with its
    traceback; either way the client gets an answer and the server keeps serving."""
    try:
        return await work
    except PerfOrchError as exc:  # the one place the server turns a user-facing error into a message
        show(ls, types.MessageType.Warning, f"PerfOrch {what}: {exc}")
        return {"status": "refused", "message": redact(str(exc))}
    except Exception as exc:
        log.exception("PerfOrch %s failed", what)
        message = f"PerfOrch {what} failed: {type(exc).__name__}: {exc}"
        show(ls, types.MessageType.Error, message)
        return {"status": "error", "message": redact(message)}
