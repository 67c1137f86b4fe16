"""The server's JSON-RPC layer: pygls' protocol and server with the changes PerfOrch needs, all in this one place.

pygls 2 leaves a client waiting forever, or tells it too much, in these cases, which it has no option for:
- a request whose params do not fit their type (a position's line -1 or 2**31, a string for an object), or a
  custom request without params: the message fails in `structure_message`, inside `json.loads`, and pygls'
  read loop logs it and answers nothing. Here such a message becomes an `Unreadable` that is answered.
- invalid JSON: the read loop hands the error to `report_server_error`, which only shows a message. Here it
  is answered with -32700 (id null, as JSON-RPC says).
- requests before `initialize` are served; after `shutdown` they are dropped unanswered. Here they get
  -32002 and -32600, as the LSP specification says.
- an exception in a handler is answered with its text and its traceback (in `data`). Here the answer is
  short and the traceback goes to the server's log (stderr) only.
- a cancel of a request already answered is logged as a warning, which reaches the user's log. Here it is
  ignored, as the LSP specification says.
The other overrides (cancelling jobs, work done progress for commands, experimental capabilities) fill gaps in
pygls' LSP features.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Generator
from contextvars import ContextVar
from typing import Any

import attrs
from cattrs.errors import BaseValidationError
from cattrs.v import format_exception, transform_error
from lsprotocol import types
from perforch.orchestration.redaction import redact
from pygls.exceptions import (
    FeatureRequestError,
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
    JsonRpcServerNotInitialized,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import MsgId, RPCNotification, RPCRequest
from pygls.protocol.language_server import lsp_method

from .messages import show

log = logging.getLogger(__name__)

# The workDoneToken of the workspace/executeCommand being handled. pygls hands a command its arguments
# only; the command's task is created in the context this is set in, as pygls' own msg_id is.
work_done_token: ContextVar[types.ProgressToken | None] = ContextVar("work_done_token", default=None)

_MAX_MESSAGE = 300  # characters of a problem told to the client; the full text is in the server's log


@attrs.define
class Unreadable:
    """A message that does not fit its type: what is needed to answer it."""

    kind: str  # "request", "notification" or "response" (a client's answer to a request of ours)
    id: Any
    method: Any
    error: JsonRpcException


class PerfOrchProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        self.on_cancel: Callable[[MsgId], None] = lambda msg_id: None  # app.py ends the request's job
        self.experimental: Any = None  # app.py's capabilities.experimental: pygls has no option for them

    # -- reading ---------------------------------------------------------------------------------------

    def structure_message(self, data: dict[str, Any]) -> Any:
        # Called by json.loads for every object (innermost first); raising here loses the message's id.
        if "jsonrpc" in data and "method" in data and "params" not in data:
            data = {**data, "params": None}  # params are optional in JSON-RPC; a handler then gets None
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            kind = "response" if "method" not in data else "request" if "id" in data else "notification"
            problem = JsonRpcInvalidParams(_problems(exc.__cause__ or exc, data.get("method")))
            return Unreadable(kind, data.get("id"), data.get("method"), problem)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Unreadable):
            self._answer_unreadable(message)
        elif not hasattr(message, "jsonrpc") or message.jsonrpc != self.VERSION:
            # Not a JSON-RPC 2.0 message (an array, a number, an object without "jsonrpc")
            request_id = message.get("id") if isinstance(message, dict) else getattr(message, "id", None)
            log.warning("not a JSON-RPC 2.0 message: %.200r", message)
            error = _error(JsonRpcInvalidRequest, "not a JSON-RPC 2.0 message")
            self._send_response(_valid_id(request_id), error=error)
        elif isinstance(message, RPCRequest):
            self._handle_request_message(message)
        elif isinstance(message, RPCNotification) and not self.initialize_received and message.method != types.EXIT:
            log.warning("notification %s before initialize: dropped", message.method)
        else:
            super().handle_message(message)

    def _handle_request_message(self, message: Any) -> None:
        if message.method == types.INITIALIZE:
            self.initialize_received = True
        refusal = self._refusal(message.method)
        if refusal is not None:
            self._send_response(message.id, error=refusal.to_response_error())
        else:
            super().handle_message(message)

    def _refusal(self, method: str) -> JsonRpcException | None:
        """The error that answers a request that cannot be served now, whatever its params."""
        if not self.initialize_received and method != types.INITIALIZE:
            return JsonRpcServerNotInitialized(f"{method}: the server is not initialized; send initialize first")
        if self._shutdown:
            return JsonRpcInvalidRequest(f"{method}: the server is shutting down; only exit is accepted")
        return None

    def _answer_unreadable(self, message: Unreadable) -> None:
        log.warning("unreadable message %s (id %r): %s", message.method, message.id, message.error.message)
        if message.kind == "response":  # to one of our requests: fail its waiter rather than let it hang
            future = self._request_futures.pop(message.id, None) if _valid_id(message.id) is not None else None
            if future is not None:
                future.set_exception(JsonRpcInvalidParams(f"the client's response was unreadable: {message.error}"))
            return
        if message.kind == "notification":  # nobody waits for an answer
            if self.initialize_received:  # the user may wonder why the server missed, say, a document's change
                text = f"PerfOrch server ignored a notification it could not read: {message.error}"
                show(self._server, types.MessageType.Warning, text)
            return
        request_id, method = _valid_id(message.id), message.method
        if request_id is None or not isinstance(method, str):
            error = JsonRpcInvalidRequest("a request needs a string method and an integer or string id")
        else:
            error = self._refusal(method) or (message.error if self._has_handler(method) else None)
            error = error or JsonRpcMethodNotFound.of(method)
        self._send_response(request_id, error=error.to_response_error())

    def _has_handler(self, method: str) -> bool:
        try:
            self._get_handler(method)
        except JsonRpcMethodNotFound:
            return False
        return True

    # -- answering -------------------------------------------------------------------------------------

    def _send_response(self, msg_id: MsgId, result: Any = None, error: types.ResponseError | None = None) -> None:
        # Every answer goes through here, so here no traceback leaves the server and no answer is lost.
        if error is None:
            try:
                json.dumps(result, default=self._serialize_message)
            except Exception:
                log.exception("the answer to request %r cannot be sent as JSON", msg_id)
                error = JsonRpcInternalError("the answer could not be encoded as JSON").to_response_error()
        if error is not None:
            error = _told_to_client(error)
        if msg_id is None and error is not None:  # lsprotocol's converter would drop the "id": null JSON-RPC needs
            answer = {"jsonrpc": self.VERSION, "id": None, "error": self._converter.unstructure(error)}
            self._send_data(answer)
            return
        super()._send_response(msg_id, result, error)

    def _send_data(self, data: Any) -> None:
        # After `exit`, or once the client has closed the pipe, a job's last progress or log record has nowhere
        # to go: pygls would log a traceback for each (and for the error message it then tries to send).
        stream = getattr(self.writer, "_stdout", None)
        if getattr(stream, "closed", False):
            log.info("the connection is closed; a message to the client was dropped")
            return
        super()._send_data(data)

    # -- LSP features pygls leaves out -----------------------------------------------------------------

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        # pygls cancels only its own future of a workspace/executeCommand request, not the task running the
        # command, so a cancelled generate/optimize would run on: end its job here.
        # A cancel that crossed the answer (VS Code cancels a code action it no longer needs) is ignored, as LSP
        # says; pygls would log a warning.
        if msg_id in self._request_futures:
            super()._handle_cancel_notification(msg_id)
        else:
            log.debug("cancel of request %r, already answered", msg_id)
        self.on_cancel(msg_id)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result = yield from super().lsp_initialize(params)
        # Commands report progress on a client's workDoneToken; pygls does not say so for us.
        if result.capabilities.execute_command_provider is not None:
            result.capabilities.execute_command_provider.work_done_progress = True
        if self.experimental is not None:
            result.capabilities.experimental = self.experimental
        return result

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Generator[Any, Any, Any]:
        work_done_token.set(params.work_done_token)
        if params.arguments is None:  # pygls would call the command without its arguments: an internal error
            params.arguments = []
        try:
            return (yield from super().lsp_workspace__execute_command(params))
        except JsonRpcInvalidParams as exc:
            cause = exc.__cause__ or exc.__context__
            if cause is None:
                raise
            # pygls says "Invalid Params: While structuring Position", without the command or the problem
            raise JsonRpcInvalidParams(_problems(cause, params.command)) from cause


# -- pygls' work done progress: the futures it keeps per token, which it offers no hook or cleanup for -----


def on_progress_cancelled(ls: LanguageServer, token: types.ProgressToken, callback: Callable[[], None]) -> None:
    """Call `callback` when the client cancels `token`'s progress (window/workDoneProgress/cancel): pygls
    then cancels the future begin() registered for the token, and nothing else."""
    ls.work_done_progress.tokens[token].add_done_callback(lambda future: future.cancelled() and callback())


def forget_progress(ls: LanguageServer, token: types.ProgressToken) -> None:
    """Drop `token`'s future after end(): pygls keeps them otherwise."""
    ls.work_done_progress.tokens.pop(token, None)


class PerfOrchServer(LanguageServer):
    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors no request waits for: invalid JSON is answered (id null); others are shown, briefly."""
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
            log.warning("a message is not valid JSON: %s", error)
            self.protocol._send_response(None, error=_error(JsonRpcParseError, f"not valid JSON: {error}"))
        elif source is not FeatureRequestError:  # a request's own answer says what failed
            # pygls logged the traceback; the user gets one line
            text = f"PerfOrch server error: {_first_line(str(error))}; its log (stderr) has the details"
            show(self, types.MessageType.Error, text)


def _error(kind: type[JsonRpcException], text: str) -> types.ResponseError:
    return kind(text).to_response_error()


def _valid_id(value: Any) -> MsgId | None:
    """A request id as JSON-RPC allows it, else None (the answer then says id null)."""
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _told_to_client(error: types.ResponseError) -> types.ResponseError:
    """The error as the client gets it: an internal error is one short line, never a traceback."""
    message = error.message
    if error.code == types.ErrorCodes.InternalError:
        message = f"internal error in the PerfOrch server: {_first_line(message)}; its log (stderr) has the details"
    data = error.data if not (isinstance(error.data, dict) and "traceback" in error.data) else None
    return types.ResponseError(code=error.code, message=redact(message)[: _MAX_MESSAGE * 2], data=data)


def _first_line(text: str) -> str:
    """The line of an exception's text that names it: a SyntaxError's starts with `  File ...`."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith(" ")]
    return (lines[-1] if lines else "unknown error")[:_MAX_MESSAGE]


def _problems(exc: BaseException, method: Any) -> str:
    """What is wrong with a message's fields, in the protocol's names: `params.range.start: Position.line
    should be in range [0:2147483647], but was -1`."""
    where = f"{method}: " if isinstance(method, str) else ""
    if not isinstance(exc, BaseValidationError):
        return f"{where}{_first_line(str(exc))}"
    found = []
    for line in transform_error(exc, path="$", format_exception=_format):
        text, _, path = line.rpartition(" @ ")
        path, text = _camel(path.removeprefix("$").lstrip(".")), text.rstrip(".")
        found.append(f"{path}: {text}" if path else text)
    return (where + "; ".join(found))[:_MAX_MESSAGE]


def _format(exc: BaseException, kind: type | None) -> str:
    # A validator's ValueError says what was wrong (lsprotocol's: "... should be in range ..., but was -1").
    if isinstance(exc, ValueError) and kind is None:
        return str(exc)
    return format_exception(exc, kind)


def _camel(path: str) -> str:
    """lsprotocol's attribute names as the protocol spells them: text_document -> textDocument."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path)
