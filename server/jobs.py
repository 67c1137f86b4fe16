"""Generate and optimize jobs: each an asyncio task running the engine's `propose`, with its progress.

Cancelling a job closes the model's HTTP request and kills the sandbox's processes (the engine does that on
cancellation). A finished job leaves its proposal in the session's ProposalStore.

Progress goes to the client twice, from the same engine event: as `$/progress` work done reports whose
message is the event's one-line summary (what any LSP client shows), and, to a client that declares
`capabilities.experimental.perforch.progress: true`, as a `perforch/progress` notification with the event's
fields (PROGRESS below), so that it need not read them back out of the sentence. Such a client may also take
versions offered before the job is done (offers.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from perforch.orchestration.config import Config
from perforch.orchestration.models import UsageLedger, UsageTotals
from perforch.orchestration.rankings.router import NoModelToAsk
from perforch.orchestration.stubs import FunctionSpan
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from . import routing
from .messages import Refused
from .offers import Offers
from .protocol import forget_progress, on_progress_cancelled
from .settings import engine_config

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger(__name__)

# {token, job, kind, function, stage, model, attempt, status, detail, message}: `message` is the text the
# work done report carries; status "starting" with an empty stage is the job's own start.
PROGRESS = "perforch/progress"


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
    usage: UsageLedger = field(default_factory=UsageLedger)  # per job: token_budget and max_cost_usd are per run


class Jobs:
    """The jobs running now, and the model usage of every job the session ran (cancelled ones' too)."""

    def __init__(self) -> None:
        self.running: dict[str, Job] = {}
        self.usage: list[UsageLedger] = []
        self.spent = UsageLedger()  # every job's calls: [pipeline] session_max_cost_usd caps it
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"job{next(self._ids)}"

    def start(self, job: Job) -> None:
        """Before the job's task first runs: its gateway, made then, caps the session through the parent."""
        job.usage.parent = self.spent
        self.running[job.id] = job
        self.usage.append(job.usage)

    def finish(self, job: Job) -> None:
        self.running.pop(job.id, None)

    def totals(self) -> UsageTotals:
        return UsageTotals.of(usage for ledger in self.usage for usage in ledger.records)

    def cancel_request(self, request: Any) -> None:
        """$/cancelRequest for a generate/optimize command: end its job."""
        for job in self.running.values():
            if job.request == request and job.task is not None:
                log.info("job %s (%s `%s`) cancelled by the client", job.id, job.kind, job.function)
                job.task.cancel()

    def tasks(self) -> list[asyncio.Task]:
        return [job.task for job in self.running.values() if job.task is not None]


class JobProgress:
    """Work done progress for one job, cancellable from the client's UI: on the token the client sent with
    the command (it shows the progress its own way), else on one the server creates, if the client can."""

    def __init__(self, ls: LanguageServer, job: Job, token: types.ProgressToken, from_client: bool) -> None:
        self.ls = ls
        self.job = job
        self.token = token
        self.from_client = from_client
        self.shown = False  # reports before the client has the token would be refused
        self.structured = _wants(ls, "progress")

    async def begin(self, title: str, on_cancel: Callable[[], None]) -> None:
        self._notify({"stage": "", "model": "", "attempt": 0, "status": "starting", "detail": ""}, "starting")
        if not self.from_client and not await self._create():
            return
        # begin() registers the future that window/workDoneProgress/cancel cancels.
        self.ls.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(title=title, cancellable=True))
        on_progress_cancelled(self.ls, self.token, on_cancel)
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

    def report(self, event: Any) -> None:
        """An engine ProgressEvent."""
        message = event.summary()
        if self.shown:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))
        self._notify(event.fields(), message)

    def end(self, message: str) -> None:
        if self.shown:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            forget_progress(self.ls, self.token)
            self.shown = False

    def _notify(self, fields: dict, message: str) -> None:
        if self.structured:
            self.notify(PROGRESS, {**fields, "message": message})

    def notify(self, method: str, fields: dict) -> None:
        """A notification about this job, naming its token and the job."""
        job = {"token": self.token, "job": self.job.id, "kind": self.job.kind, "function": self.job.function}
        self.ls.protocol.notify(method, {**job, **fields})


def _wants(ls: LanguageServer, feature: str) -> bool:
    """The client declared `capabilities.experimental.perforch.<feature>: true`."""
    experimental = ls.client_capabilities.experimental
    perforch = experimental.get("perforch") if isinstance(experimental, dict) else None
    return isinstance(perforch, dict) and perforch.get(feature) is True


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

    document = ls.workspace.get_text_document(uri)
    if version is not None and document.version is not None and document.version != version:
        raise Refused("the document changed since the action was offered; ask for the action again")
    span = _function_for(session, document, position.line, kind)
    file = Path(document.path)
    config = engine_config(session.settings, file, session.root)
    router = routing.router(config, session.settings.profile)
    job = Job(session.jobs.new_id(), kind, uri, span.name, document.version, ls.protocol.msg_id)
    from_client = work_done_token is not None
    progress = JobProgress(ls, job, work_done_token if from_client else f"perforch-{job.id}", from_client)
    offers = Offers(ls, session.proposals, job, progress.notify if _wants(ls, "proposals") else None)

    def on_progress(event: Any) -> None:
        job.stage, job.model = event.stage, event.model
        progress.report(event)

    work = propose(
        kind, file, position.line + 1, config, router, text=document.source, on_progress=on_progress,
        ledger=job.usage, on_offer=offers.offer if offers.wanted else None,
    )  # fmt: skip
    # The task exists before anything is awaited: a cancel that arrives at any point finds it.
    job.task = asyncio.create_task(work, name=job.id)
    session.jobs.start(job)
    log.info("job %s: %s `%s` in %s", job.id, kind, span.name, file)
    try:
        await progress.begin(f"PerfOrch: {kind} {span.name}", job.task.cancel)
        await _finished(job.task)
    finally:
        session.jobs.finish(job)
        progress.end(_ending(job.task))
    if job.task.cancelled():
        return offers.cancelled()
    error = job.task.exception()
    if isinstance(error, NoModelToAsk):
        raise Refused(str(error), _missing_key_cause(config, str(error))) from error
    answer = offers.answer(job.task.result())
    answer["seconds"] = round(time.monotonic() - job.started, 1)
    _name_key(answer.get("cause"), config)
    _log_trace(job, answer)
    return answer


def _missing_key_cause(config: Config, message: str) -> dict:
    keys = routing.missing_keys(config)
    kind = "missing_key" if keys else "no_model"
    return {"kind": kind, "message": message, "keys": keys, "stage": "", "model": "", "output": "", "candidate": None}


def _name_key(cause: dict | None, config: Config) -> None:
    """A provider that refused the key: name the variable that holds it, for a client's "Set key"."""
    if cause is None or cause["kind"] != "auth":
        return
    spec = config.models.get(cause["model"])
    cause["keys"] = [spec.api_key_env] if spec is not None and spec.api_key_env else []


def _log_trace(job: Job, answer: dict) -> None:
    """The run, step by step, in the log the client shows (an output channel): what a summary leaves out."""
    log.info("job %s: %s (%.1f s)", job.id, answer["summary"], answer["seconds"])
    for step in answer["trace"]:
        cost = "unpriced" if step["cost_usd"] is None else f"${step['cost_usd']:.4f}"
        detail = step["detail"].splitlines()[0][:160] if step["detail"] else ""
        model = f" ({step['model']})" if step["model"] else ""
        log.info(
            "job %s:   %s%s #%d %s, %.1f s, %d tokens, %s%s", job.id, step["stage"], model, step["attempt"],
            step["status"], step["seconds"], step["tokens"], cost, f": {detail}" if detail else "",
        )  # fmt: skip


def _function_for(session: Session, document: TextDocument, line: int, kind: str) -> FunctionSpan:
    found = session.functions.at(document, line)
    if found is None:
        raise Refused(f"{Path(document.path).name}:{line + 1}: no function of a supported language spans this line")
    span, stub = found
    if kind == "generate" and not stub:
        raise Refused(f"`{span.name}` already has a body: optimize it instead")
    if kind == "optimize" and stub:
        raise Refused(f"`{span.name}` is a stub: generate it first")
    running = session.jobs.running.values()
    same = [job for job in running if job.uri == document.uri and job.function == span.name]
    if same:
        raise Refused(f"`{span.name}` already has a job running ({same[0].id}); cancel it or wait")
    if len(session.jobs.running) >= session.settings.max_jobs:
        raise Refused(f"{len(session.jobs.running)} jobs are running (maxJobs); wait for one to finish or cancel one")
    return span


async def _finished(task: asyncio.Task) -> None:
    """Wait for the job. If this handler is cancelled instead (shutdown), the job goes with it."""
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        task.cancel()
        raise


def _ending(task: asyncio.Task) -> str:
    if not task.done() or task.cancelled():
        return "cancelled"
    if task.exception() is not None:
        return "failed"
    return "done" if task.result().result.passed else "no passing version"
