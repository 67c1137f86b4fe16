"""Where the server's log goes: the engine's and the server's records to the client as window/logMessage
(one line each), tracebacks to stderr only, API keys masked everywhere."""

from __future__ import annotations

import asyncio
import logging
import sys

from lsprotocol import types
from perforch.orchestration.redaction import RedactingFormatter, redact
from pygls.lsp.server import LanguageServer

_MESSAGE_TYPES = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}
_STDERR_FORMAT = "perforch serve: %(name)s: %(message)s"


class ClientLog(logging.Handler):
    """Log records as window/logMessage, API keys masked."""

    def __init__(self, server: LanguageServer) -> None:
        super().__init__()
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None  # the server's: only it writes to the client

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = redact(_without_traceback(record))
            kind = next((t for level, t in _MESSAGE_TYPES.items() if record.levelno >= level), types.MessageType.Log)
            params = types.LogMessageParams(type=kind, message=message)
            if self._on_loop():
                self.server.window_log_message(params)
            elif self.loop is not None:  # a record from a worker thread
                self.loop.call_soon_threadsafe(self.server.window_log_message, params)
        except Exception:
            self.handleError(record)

    def _on_loop(self) -> bool:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self.loop is None:
            self.loop = running
        return running is self.loop


def _without_traceback(record: logging.LogRecord) -> str:
    """A record as the client sees it: its message and, for an exception, one line naming it."""
    message = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        message += f": {type(error).__name__}: {error}; the server's log (stderr) has the traceback"
    return message


def stderr(only_tracebacks: bool) -> logging.Handler:
    """The server's log, API keys masked. Records with a traceback go here, and to the client without it
    (ClientLog)."""
    handler = logging.StreamHandler(sys.stderr)
    if only_tracebacks:
        handler.addFilter(lambda record: bool(record.exc_info))
    handler.setFormatter(RedactingFormatter(_STDERR_FORMAT))
    return handler


def route_logs(server: LanguageServer, connection: str) -> None:
    """The engine's records to the client (and their tracebacks to stderr); everything else, and what the
    connection (`connection`, a logger name) logs, to stderr: the client may not be initialized."""
    logging.basicConfig(level=logging.WARNING, handlers=[stderr(only_tracebacks=False)])
    engine = logging.getLogger("perforch")
    engine.setLevel(logging.INFO)
    engine.addHandler(ClientLog(server))
    engine.addHandler(stderr(only_tracebacks=True))
    engine.propagate = False  # the client shows these; stderr gets pygls' and other libraries' warnings
    logger = logging.getLogger(connection)
    logger.addHandler(stderr(only_tracebacks=False))
    logger.propagate = False
