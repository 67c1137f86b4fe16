"""The PerfOrch language server: one module-level pygls server, its handlers, and `serve`.

Handlers stay flat and short; what they do is in the modules beside this one (code_actions, jobs, proposals,
edits, requests, settings, messages, logs; pygls' gaps are filled in protocol), and the engine does the work.
litellm and the pipeline are imported on the first job, so that `initialize` is answered at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lsprotocol import types
from perforch.orchestration.languages import LANGUAGES
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from . import config_problems, jobs, offers, proposals, requests
from .code_actions import ACTION_KIND, GENERATE, OPTIMIZE, code_actions, code_lenses
from .logs import route_logs
from .messages import reported, show
from .protocol import PerfOrchProtocol, PerfOrchServer, work_done_token
from .session import Session
from .settings import SECTION, checked_engine_config, merged, parse_settings

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("perforch")
    except PackageNotFoundError:
        return "0"


server = PerfOrchServer("perforch", _version(), protocol_cls=PerfOrchProtocol)
session = Session()
server.protocol.on_cancel = session.jobs.cancel_request
# What a client can learn from `initialize`: the languages PerfOrch works on (the VS Code extension's
# language list), that it sends structured progress to clients that ask for it (jobs.PROGRESS), and versions
# offered while a job still runs (offers.PROPOSAL).
server.protocol.experimental = {
    "perforch": {"languages": list(LANGUAGES), "progress": jobs.PROGRESS, "proposals": offers.PROPOSAL}
}


# -- settings --------------------------------------------------------------------------------------------


@server.feature(types.INITIALIZE)
def initialize(ls: LanguageServer, params: types.InitializeParams) -> None:
    session.root = _root(params)
    session.init_options = params.initialization_options
    session.client_tells = _client_tells(params.capabilities.experimental)
    _configure(ls, merged(session.init_options))


@server.feature(types.INITIALIZED)
async def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
    await _watch_settings(ls)
    await _reload(ls)


async def _watch_settings(ls: LanguageServer) -> None:
    """Clients that are asked for settings (VS Code) only say they changed to a server that registers."""
    workspace = ls.client_capabilities.workspace
    change = workspace.did_change_configuration if workspace is not None else None
    if change is None or not change.dynamic_registration:
        return
    method, options = types.WORKSPACE_DID_CHANGE_CONFIGURATION, types.DidChangeConfigurationRegistrationOptions(SECTION)
    registration = types.Registration(id=SECTION, method=method, register_options=options)
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
    except Exception as exc:  # the client may still push changes; nothing is lost but the pull
        log.info("could not register for workspace/didChangeConfiguration: %s", exc)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: LanguageServer, params: types.DidChangeConfigurationParams) -> None:
    pushed = params.settings
    # Clients that push settings send either {"perforch": {...}} (Neovim, VS Code) or the section itself (Helix).
    session.pushed = pushed.get(SECTION) if isinstance(pushed, dict) and SECTION in pushed else pushed
    await _reload(ls)


async def _reload(ls: LanguageServer) -> None:
    pulled = None
    workspace = ls.client_capabilities.workspace
    if workspace is not None and workspace.configuration:
        try:
            items = [types.ConfigurationItem(section=SECTION)]
            (pulled,) = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
        except Exception as exc:  # a client that cannot answer keeps the settings it sent otherwise
            log.warning("workspace/configuration failed: %s", exc)
    _configure(ls, merged(session.init_options, session.pushed, pulled))


def _configure(ls: LanguageServer, raw: dict) -> None:
    """Take new settings. Each problem is logged, and shown unless it was shown at the last reload (a setting
    still broken); its setting keeps its default."""
    settings, problems = parse_settings(raw)
    session.settings = settings
    logging.getLogger("perforch").setLevel(settings.log_level.upper())
    _, config_problems = checked_engine_config(settings, None, session.root)
    messages = [(types.MessageType.Warning, f"PerfOrch settings: {problem}") for problem in problems]
    messages += [(types.MessageType.Error, f"PerfOrch: {problem}") for problem in config_problems]
    shown, session.problems = session.problems, {text for _, text in messages}
    for kind, text in messages:
        log.warning("%s", text)
        if text not in shown:
            show(ls, kind, text)


def _client_tells(experimental: Any) -> bool:
    """The client shows a job's outcome itself (`experimental.perforch.results: true`, the VS Code extension),
    with actions of its own: the server then shows no message for it."""
    perforch = experimental.get("perforch") if isinstance(experimental, dict) else None
    return isinstance(perforch, dict) and perforch.get("results") is True


def _root(params: types.InitializeParams) -> Path | None:
    uri = params.workspace_folders[0].uri if params.workspace_folders else params.root_uri
    path = to_fs_path(uri) if uri else params.root_path
    return Path(path) if path else None


# -- code actions and commands ---------------------------------------------------------------------------


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[ACTION_KIND], resolve_provider=False),
)
def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    document = ls.workspace.get_text_document(params.text_document.uri)
    return code_actions(session.functions, document, params.range.start, params.context.only)


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: LanguageServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    return code_lenses(session.functions, ls.workspace.get_text_document(params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    session.functions.forget(params.text_document.uri)


# -- perforch.toml problems ------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    _check_config(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    _check_config(ls, params.text_document.uri)


def _check_config(ls: LanguageServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    if not config_problems.is_config(document.path):
        return
    found = config_problems.diagnostics(Path(document.path), document.source)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=found))


@server.command(GENERATE)
async def generate(ls: LanguageServer, uri: str, position: types.Position, version: int | None) -> dict:
    return await _job(ls, "generate", uri, position, version)


@server.command(OPTIMIZE)
async def optimize(ls: LanguageServer, uri: str, position: types.Position, version: int | None) -> dict:
    return await _job(ls, "optimize", uri, position, version)


async def _job(ls: LanguageServer, kind: str, uri: str, position: types.Position, version: int | None) -> dict:
    job = jobs.run_job(ls, session, kind, uri, position, version, work_done_token.get())
    result = await reported(ls, kind, job, client_tells=session.client_tells)
    if result["status"] == "done" and session.settings.apply_prompt:
        prompt = asyncio.create_task(_offer(ls, result))
        session.background.add(prompt)
        prompt.add_done_callback(session.background.discard)
    return result


async def _offer(ls: LanguageServer, result: dict) -> None:
    """Tell the user how the job went and, when there is a change, offer to apply it (no preview needed)."""
    summary = result["summary"]
    if result["id"] is None:
        show(ls, types.MessageType.Info if result["passed"] else types.MessageType.Warning, summary)
        return
    choices = [types.MessageActionItem(title="Apply"), types.MessageActionItem(title="Discard")]
    request = types.ShowMessageRequestParams(type=types.MessageType.Info, message=summary, actions=choices)
    try:
        choice = await ls.window_show_message_request_async(request)
    except Exception as exc:  # a client without window/showMessageRequest (Helix): say how to apply instead
        log.info("could not offer proposal %s: %s", result["id"], exc)
        show(ls, types.MessageType.Info, f"{summary}; apply it with the command perforch.apply")
        return
    if choice is not None and choice.title == "Apply":
        await _apply(ls, result["id"], direct=True)
    elif choice is not None:
        await _discard(ls, result["id"])


@server.command(proposals.APPLY)
async def apply(ls: LanguageServer, *arguments: Any) -> dict:
    """perforch.apply [proposal id] [direct]: no id means the latest proposal."""
    proposal_id = arguments[0] if arguments and isinstance(arguments[0], str) else None
    direct = len(arguments) > 1 and arguments[1] is True
    return await _apply(ls, proposal_id, direct)


async def _apply(ls: LanguageServer, proposal_id: str | None, direct: bool) -> dict:
    return await reported(ls, "apply", proposals.apply(ls, session.proposals, proposal_id, direct))


@server.command(proposals.DISCARD)
async def discard(ls: LanguageServer, *arguments: Any) -> dict:
    """perforch.discard [proposal id]: forget a proposal (Reject in a preview); no id means the latest."""
    return await _discard(ls, arguments[0] if arguments and isinstance(arguments[0], str) else None)


async def _discard(ls: LanguageServer, proposal_id: str | None) -> dict:
    return await reported(ls, "discard", proposals.discard(session.proposals, proposal_id))


# -- custom requests -------------------------------------------------------------------------------------


@server.feature(requests.RANKINGS)
async def rankings(ls: LanguageServer, params: Any) -> dict:
    # In a thread: routing a user with no [models] asks litellm which provider keys are set, and its first
    # import takes seconds the other requests must not wait for.
    return await asyncio.to_thread(requests.rankings, session, params)


@server.feature(requests.ROUTING)
async def routing(ls: LanguageServer, params: Any) -> dict:
    # In a thread, as rankings: a user with no [models] is routed by the provider keys litellm finds.
    return await asyncio.to_thread(requests.routing, session, params)


@server.feature(requests.STATUS)
def status(ls: LanguageServer, params: Any) -> dict:
    return requests.status(session, params)


@server.feature(types.SHUTDOWN)
async def shutdown(ls: LanguageServer, params: None) -> None:
    await session.cancel_all()
    if "perforch.orchestration.checking" in sys.modules:  # only a job starts the warm compilers
        from perforch.orchestration.checking import close_all

        await close_all()
    from perforch.orchestration import local_server

    local_server.close_all()  # a call to a local/ model may have started one; it must not outlive us


# -- serving -------------------------------------------------------------------------------------------


def serve(tcp: str | None = None) -> int:
    """Serve over stdio, or over TCP at HOST:PORT (for debugging)."""
    route_logs(server, PerfOrchProtocol.__module__)
    if tcp is not None:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
        return 0
    # The protocol gets its own copy of stdout; fd 1 itself then points at stderr, so a stray print, a C
    # library or a child process cannot write into the protocol stream.
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    server.start_io(sys.stdin.buffer, protocol_out)
    return 0
