"""The language server answers every request, however malformed, without a traceback.

pytest-lsp's client checks what it sends, so these tests write raw JSON-RPC frames (Content-Length headers)
to a real `perforch serve` over stdio and read everything it sends back."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from perforch.orchestration.config import load_config
from perforch.orchestration.rankings.router import Router

SERVER = [sys.executable, "-m", "perforch.cli", "serve"]
NO_ANSWER_YET = 60.0  # seconds before a missing answer fails the test rather than hanging it
LAST_LINE = 2**31 - 1  # the largest line LSP allows (a uinteger)


class RawClient:
    """A client that sends frames as given and keeps every message the server sends."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.received: list[dict] = []
        self.sent_ids: list[Any] = []
        self.stderr: str | None = None  # the server's own log, once it has exited
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read_all())

    async def send(self, message: dict | bytes) -> None:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        if isinstance(message, dict) and "id" in message:
            self.sent_ids.append(message["id"])
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self.process.stdin.drain()

    async def request(self, request_id: Any, method: str, params: Any = None, *, with_params: bool = True) -> dict:
        """Send a request and wait for its answer (the whole response message)."""
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if with_params:
            message["params"] = params
        await self.send(message)
        return await self.answer(request_id)

    async def notify(self, method: str, params: Any) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def answer(self, request_id: Any) -> dict:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: self._answer(request_id)), NO_ANSWER_YET)
            return self._answer(request_id)

    def _answer(self, request_id: Any) -> dict | None:
        return next((m for m in self.received if _is_answer(m) and m.get("id") == request_id), None)

    async def initialize(self, root: Path) -> dict:
        params = {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
        answer = await self.request("init", "initialize", params)
        await self.notify("initialized", {})
        return answer

    async def _read_all(self) -> None:
        while (message := await _read_frame(self.process.stdout)) is not None:
            if "method" in message and "id" in message:  # a request from the server: a plain client's answer
                await self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            async with self._arrived:
                self.received.append(message)
                self._arrived.notify_all()

    async def close(self) -> str:
        """Shut the server down as a client does (once); its stderr, the server's own log."""
        if self.stderr is None:
            await self.request("shutdown", "shutdown", None)
            await self.notify("exit", None)
            await asyncio.wait_for(self._reader, NO_ANSWER_YET)
            self.stderr = (await self.process.stderr.read()).decode(errors="replace")
            await self.process.wait()
        return self.stderr

    def check_every_request_answered_once(self) -> None:
        answered = Counter(json.dumps(m.get("id")) for m in self.received if _is_answer(m) and m.get("id") is not None)
        assert answered == Counter(json.dumps(i) for i in self.sent_ids if i is not None), self.received

    def check_no_traceback_sent(self) -> None:
        sent = json.dumps(self.received)
        assert "Traceback" not in sent and 'File \\"' not in sent, sent


def _is_answer(message: dict) -> bool:
    return "method" not in message and ("result" in message or "error" in message)


async def _read_frame(stream: asyncio.StreamReader) -> dict | None:
    length = None
    while True:
        line = await stream.readline()
        if not line:
            return None
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
        elif line == b"\r\n" and length is not None:
            return json.loads(await stream.readexactly(length))


@pytest.fixture
async def raw(tmp_path: Path):
    """A server process over stdio; after the test, it must have answered each request once, no traceback."""
    process = await asyncio.create_subprocess_exec(
        *SERVER, cwd=tmp_path, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    client = RawClient(process)
    try:
        yield client
        await client.close()
        client.check_every_request_answered_once()
        client.check_no_traceback_sent()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _code_action(uri: str, line: int) -> dict:
    position = {"line": line, "character": 0}
    return {
        "textDocument": {"uri": uri},
        "range": {"start": position, "end": position},
        "context": {"diagnostics": []},
    }


def _command(command: str, *arguments: Any) -> dict:
    return {"command": command, "arguments": list(arguments)}


def _error(answer: dict) -> tuple[int, str]:
    assert "error" in answer and "result" not in answer, answer
    return answer["error"]["code"], answer["error"]["message"]


async def _open(raw: RawClient, file: Path) -> str:
    document = {"uri": file.as_uri(), "languageId": "python", "version": 1, "text": file.read_text()}
    await raw.notify("textDocument/didOpen", {"textDocument": document})
    return file.as_uri()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    file = tmp_path / "core.py"
    file.write_text("x = 1\n\n\ndef f(x):\n    return x\n")
    return file


# -- before initialize and after shutdown ----------------------------------------------------------------


async def test_requests_before_initialize_are_answered_server_not_initialized(raw, tmp_path, source):
    code, message = _error(await raw.request(1, "perforch/status", {}))
    assert code == -32002 and "initialize" in message
    await raw.notify("textDocument/didOpen", {"textDocument": 5})  # dropped, not answered
    code, _ = _error(await raw.request(2, "textDocument/codeAction", _code_action(source.as_uri(), -1)))
    assert code == -32002  # whatever the params: nothing is served before initialize
    assert all(_is_answer(m) for m in raw.received), raw.received  # no log or message before initialize

    assert "capabilities" in (await raw.initialize(tmp_path))["result"]
    assert (await raw.request(3, "perforch/status", {}))["result"]["jobs"] == []


async def test_requests_after_shutdown_are_invalid(raw, tmp_path):
    await raw.initialize(tmp_path)
    assert (await raw.request(1, "shutdown", None))["result"] is None
    code, message = _error(await raw.request(2, "perforch/status", {}))
    assert code == -32600 and "shutting down" in message


# -- what cannot be read ---------------------------------------------------------------------------------


async def test_invalid_json_is_a_parse_error_and_the_server_keeps_serving(raw, tmp_path):
    await raw.initialize(tmp_path)
    await raw.send(b'{"jsonrpc": "2.0", "id": 1, "method": "perforch/status", ')
    await raw.send(b"\xff\xfe not utf-8")
    assert (await raw.request(2, "perforch/status", {}))["result"]["jobs"] == []
    parse_errors = [m for m in raw.received if _is_answer(m) and m["id"] is None]
    assert [m["error"]["code"] for m in parse_errors] == [-32700, -32700], raw.received


async def test_a_message_that_is_not_json_rpc_is_an_invalid_request(raw, tmp_path):
    await raw.initialize(tmp_path)
    await raw.send(b"[1, 2]")
    await raw.send({"id": 1, "method": "perforch/status"})  # no "jsonrpc"
    assert (await raw.request(2, "perforch/status", {}))["result"]["jobs"] == []
    assert _error(await raw.answer(1))[0] == -32600
    assert [m["error"]["code"] for m in raw.received if _is_answer(m) and m["id"] is None] == [-32600]


async def test_params_of_the_wrong_type_are_invalid_params_naming_the_field(raw, tmp_path, source):
    await raw.initialize(tmp_path)
    params = {"textDocument": 7, "range": "here", "context": {"diagnostics": []}}
    code, message = _error(await raw.request(1, "textDocument/codeAction", params))
    assert code == -32602 and message.startswith("textDocument/codeAction: ")
    assert "params.textDocument" in message and "params.range" in message, message

    code, message = _error(await raw.request(2, "workspace/executeCommand", _command("perforch.generate")))
    assert code == -32602 and "perforch.generate" in message and "3 arguments" in message
    code, message = _error(await raw.request(3, "perforch/rankings", {"language": 5}))
    assert code == -32602 and "params.language must be a string" in message
    code, message = _error(await raw.request(4, "perforch/status", [1, 2]))
    assert code == -32602 and "must be an object" in message


async def test_an_unknown_method_is_method_not_found(raw, tmp_path):
    await raw.initialize(tmp_path)
    await raw.notify("perforch/nothing", {})  # an unknown notification is ignored
    code, message = _error(await raw.request(1, "perforch/nothing", {}))
    assert code == -32601 and "perforch/nothing" in message
    code, _ = _error(await raw.request(2, "textDocument/hover", {"textDocument": 3}))
    assert code == -32601  # a method the server does not offer, whatever its params


# -- positions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", [-1, 2**31])
async def test_a_code_action_at_a_line_lsp_cannot_express_is_invalid_params(raw, tmp_path, source, line):
    await raw.initialize(tmp_path)
    uri = await _open(raw, source)
    code, message = _error(await raw.request(1, "textDocument/codeAction", _code_action(uri, line)))
    assert code == -32602 and "params.range.start" in message and f"in range [0:{LAST_LINE}]" in message
    assert str(line) in message, message


async def test_a_code_action_beyond_the_document_offers_nothing(raw, tmp_path, source):
    await raw.initialize(tmp_path)
    uri = await _open(raw, source)
    assert (await raw.request(1, "textDocument/codeAction", _code_action(uri, LAST_LINE)))["result"] == []
    offered = (await raw.request(2, "textDocument/codeAction", _code_action(uri, 3)))["result"]
    assert [action["title"] for action in offered] == ["Optimize with PerfOrch"]  # the same file


@pytest.mark.parametrize("line", [-1, 2**31])
async def test_a_command_at_a_line_lsp_cannot_express_says_it_is_out_of_range(raw, tmp_path, source, line):
    await raw.initialize(tmp_path)
    uri = await _open(raw, source)
    for request_id, command in enumerate(["perforch.generate", "perforch.optimize"]):
        arguments = _command(command, uri, {"line": line, "character": 0}, 1)
        code, message = _error(await raw.request(request_id, "workspace/executeCommand", arguments))
        assert code == -32602 and message.startswith(command), message
        assert f"line should be in range [0:{LAST_LINE}], but was {line}" in message


async def test_a_command_beyond_the_document_is_refused(raw, tmp_path, source):
    await raw.initialize(tmp_path)
    uri = await _open(raw, source)
    arguments = _command("perforch.optimize", uri, {"line": LAST_LINE, "character": 0}, 1)
    result = (await raw.request(1, "workspace/executeCommand", arguments))["result"]
    assert result["status"] == "refused" and "no function" in result["message"]


# -- custom requests without params ----------------------------------------------------------------------


async def test_status_and_rankings_without_params_use_the_defaults(raw, tmp_path):
    await raw.initialize(tmp_path)
    status = (await raw.request(1, "perforch/status", with_params=False))["result"]
    assert status == {"jobs": [], "proposals": [], "tokens": 0, "cost_usd": 0.0, "unpriced_calls": 0, "cost": "$0.0000"}
    assert (await raw.request(2, "perforch/status", None))["result"] == status
    rankings = (await raw.request(3, "perforch/rankings", with_params=False))["result"]
    assert rankings == (await raw.request(4, "perforch/rankings", {}))["result"]
    # The defaults are what a run in this folder routes by: no perforch.toml, so the configured profile, or with
    # no provider key either the profile of the bundled local model that a run falls back to.
    routed = Router.configured(load_config(tmp_path))
    assert rankings["profile"] == routed.profile and rankings["cells"], rankings


# -- internal errors -------------------------------------------------------------------------------------


async def test_an_internal_error_is_one_line_for_the_client_and_a_traceback_in_the_servers_log(raw, tmp_path):
    await raw.initialize(tmp_path)
    missing = (tmp_path / "missing.py").as_uri()  # neither open nor on disk: reading it fails in the handler
    answer = await raw.request(1, "textDocument/codeAction", _code_action(missing, 0))
    code, message = _error(answer)
    assert code == -32603 and "FileNotFoundError" in message and "\n" not in message
    assert answer["error"].get("data") is None  # pygls would put the traceback here

    arguments = _command("perforch.generate", missing, {"line": 0, "character": 0}, None)
    result = (await raw.request(2, "workspace/executeCommand", arguments))["result"]
    assert result["status"] == "error" and "FileNotFoundError" in result["message"]
    logged = [m["params"]["message"] for m in raw.received if m.get("method") == "window/logMessage"]
    assert any("PerfOrch generate failed: FileNotFoundError" in text for text in logged), logged

    stderr = await raw.close()
    assert stderr.count("Traceback (most recent call last)") >= 2  # both failures, in full, in the server's log
    assert "PerfOrch generate failed" in stderr


async def test_a_cancel_that_crosses_the_answer_is_ignored_without_a_warning(raw, tmp_path, source):
    # VS Code cancels a code action it no longer needs, often after the answer has left: LSP says to ignore it.
    await raw.initialize(tmp_path)
    uri = await _open(raw, source)
    assert "result" in await raw.request(1, "textDocument/codeAction", _code_action(uri, 3))
    await raw.notify("$/cancelRequest", {"id": 1})
    await raw.notify("$/cancelRequest", {"id": "never-sent"})
    assert (await raw.request(2, "perforch/status", {}))["result"]["jobs"] == []
    logged = [m["params"]["message"] for m in raw.received if m.get("method") == "window/logMessage"]
    assert not any("Cancel notification" in text for text in logged), logged
    assert "Cancel notification" not in await raw.close()
