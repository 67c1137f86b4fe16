"""What the user is told: a refusal is a warning, a failure an error; every command gets an answer either way.
Everything shown is redacted: a model's answer or a test's output may quote an API key."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from lsprotocol import types
from perforch.orchestration.errors import PerfOrchError
from perforch.orchestration.redaction import redact
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


class Refused(PerfOrchError):
    """A request the server will not carry out as asked; the message tells the user why, and `cause` (as a
    job's answer carries it) what a client can offer to fix it."""

    def __init__(self, message: str, cause: dict | None = None) -> None:
        super().__init__(message)
        self.cause = cause


def show(ls: LanguageServer, kind: types.MessageType, text: str) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=redact(text)))


async def reported(ls: LanguageServer, what: str, work: Awaitable[dict], *, client_tells: bool = False) -> dict:
    """Run a command: a refusal (any PerfOrchError, the engine's included) becomes a warning, an exception an
    error message and a log entry with its traceback; either way the client gets an answer and the server keeps
    serving. `client_tells`: the client shows the answer's message itself (with its own actions), so the
    server shows none."""
    try:
        return await work
    except PerfOrchError as exc:  # the one place the server turns a user-facing error into a message
        if not client_tells:
            show(ls, types.MessageType.Warning, f"PerfOrch {what}: {exc}")
        log.info("PerfOrch %s refused: %s", what, exc)
        answer = {"status": "refused", "message": redact(str(exc))}
        if isinstance(exc, Refused) and exc.cause is not None:
            answer["cause"] = exc.cause
        return answer
    except Exception as exc:
        log.exception("PerfOrch %s failed", what)
        message = f"PerfOrch {what} failed: {type(exc).__name__}: {exc}"
        if not client_tells:
            show(ls, types.MessageType.Error, message)
        return {"status": "error", "message": redact(message)}
