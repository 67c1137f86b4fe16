"""A scripted OpenAI-compatible model server: the one test double for a model.

It is a real HTTP server on 127.0.0.1 (a random free port), run by aiohttp on its own event loop in a
background thread, so the code under test goes through litellm, the openai SDK and a real socket
exactly as it would against a hosted model. Nothing about litellm is mocked.

Endpoints: ``POST /v1/chat/completions`` (and ``/chat/completions``), OpenAI's non-streaming schema;
``GET /v1/models`` (and ``/models``).

What each request gets is decided by a policy, a plain callable::

    def policy(model: str, messages: list[dict]) -> Reply | str: ...

``model`` is the name the client sent (litellm strips its provider prefix: ``openai/scripted-a``
arrives as ``scripted-a``); a ``str`` return is shorthand for ``Reply(text)``. The policy runs on the
server thread, one request at a time, so a stateful closure (a counter, an iterator) needs no lock.
Build replies with:

- ``Reply("def f(): ...", prompt_tokens=120, completion_tokens=40)``: an answer; tokens default to
  word counts of the prompt and the answer.
- ``Reply.error(500)``, ``Reply.rate_limited(retry_after="1")``: an HTTP error with OpenAI's error body;
  ``Reply.error(status, headers=..., body=...)`` for anything else.
- ``Reply("late", delay=5)``: answer after a delay (to force client timeouts or test cancellation).
- ``Reply("later", hold=event)``: answer once the test sets the ``threading.Event`` (a step held open
  while the test acts on what came before it, with no race against a delay).
- ``Reply.dropped()``: close the connection without answering.
- ``Reply.empty()``: a well-formed answer whose content is empty.
- ``Reply.malformed()``: HTTP 200 with a body that is not JSON.

``in_order(*replies)`` scripts a sequence (the last reply repeats), ``by_model({...})`` dispatches on
the model name. A policy that solves HumanEval problems looks at ``messages[-1]["content"]`` and
returns the fenced code block it wants that model to "write".

Every request is recorded as a ``RecordedRequest`` (model, messages, body, headers, start and end
times, whether the client disconnected before the answer was sent); ``server.requests`` returns a
snapshot, ``server.max_concurrent`` the highest number of requests in flight at once (and
``server.max_concurrent_by_model`` the same per model),
``server.clear()`` forgets both, and ``server.wait_for(predicate)`` polls until a condition on the
requests holds (disconnects are noticed asynchronously; from async code, call it through
``asyncio.to_thread`` so the client's event loop can run meanwhile).

In pytest, use the ``scripted_server`` fixture from conftest.py. Elsewhere (benchmark scripts)::

    with start_scripted_server(policy) as server:
        ...  # point a model's api_base at server.base_url
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Policy = Callable[[str, list[dict]], "Reply | str"]


@dataclass(frozen=True)
class Reply:
    """What the server does with one request; see the module docstring for the constructors."""

    text: str = "ok"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None  # a raw body replaces the generated one (errors, malformed JSON)
    delay: float = 0.0
    drop: bool = False
    hold: threading.Event | None = None  # answer only once a test sets it

    @classmethod
    def error(
        cls, status: int, message: str = "", *, headers: Mapping[str, str] | None = None, body: str | None = None
    ) -> Reply:
        if body is None:
            error = {"message": message or f"scripted error {status}", "type": "scripted", "code": status}
            body = json.dumps({"error": error})
        return cls(status=status, headers=dict(headers or {}), body=body)

    @classmethod
    def rate_limited(cls, retry_after: str | None = None) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls.error(429, "rate limit reached", headers=headers)

    @classmethod
    def dropped(cls, delay: float = 0.0) -> Reply:
        return cls(drop=True, delay=delay)

    @classmethod
    def empty(cls) -> Reply:
        return cls(text="")

    @classmethod
    def malformed(cls) -> Reply:
        return cls(body='{"id": "chatcmpl-scripted", "choices": [')


@dataclass
class RecordedRequest:
    model: str
    messages: list[dict]
    body: dict[str, Any]
    headers: dict[str, str]
    started: float  # time.monotonic()
    finished: float | None = None  # when the answer was sent or the client went away
    disconnected: bool = False  # the client closed the connection before the answer was sent


def in_order(*replies: Reply | str) -> Policy:
    """A policy that answers with `replies` one after another, repeating the last one."""
    remaining = list(replies)

    def policy(model: str, messages: list[dict]) -> Reply | str:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return policy


def by_model(policies: Mapping[str, Policy | Reply | str]) -> Policy:
    """A policy that dispatches on the model name; a model not listed gets a 404 like a real server."""

    def policy(model: str, messages: list[dict]) -> Reply | str:
        chosen = policies.get(model)
        if chosen is None:
            return Reply.error(404, f"The model `{model}` does not exist")
        return chosen(model, messages) if callable(chosen) else chosen

    return policy


def _words(text: str) -> int:
    return len(text.split())


def _completion_body(model: str, messages: list[dict], reply: Reply) -> str:
    prompt_tokens = reply.prompt_tokens
    if prompt_tokens is None:
        prompt_tokens = sum(_words(str(message.get("content") or "")) for message in messages)
    completion_tokens = reply.completion_tokens if reply.completion_tokens is not None else _words(reply.text)
    return json.dumps(
        {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


class ScriptedServer:
    """The running server. Create it with `start_scripted_server` (or the pytest fixture)."""

    def __init__(self, policy: Policy | None = None, models: Iterable[str] = ("scripted",)) -> None:
        self._policy: Policy = policy or (lambda model, messages: Reply())
        self._models = list(models)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._max_concurrent = 0
        self._in_flight_by_model: dict[str, int] = {}
        self._max_by_model: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="scripted-server", daemon=True)
        self._runner: web.AppRunner | None = None
        self._closing = False  # handlers cancelled by close() are not client disconnects
        self.port = 0

    # -- the test-facing surface ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def set_policy(self, policy: Policy) -> None:
        with self._lock:
            self._policy = policy

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def max_concurrent(self) -> int:
        with self._lock:
            return self._max_concurrent

    @property
    def max_concurrent_by_model(self) -> dict[str, int]:
        with self._lock:
            return dict(self._max_by_model)

    def clear(self) -> None:
        """Forget recorded requests and the concurrency high-water marks."""
        with self._lock:
            self._requests.clear()
            self._max_concurrent = self._in_flight
            self._max_by_model = {m: n for m, n in self._in_flight_by_model.items() if n}

    def wait_for(self, predicate: Callable[[list[RecordedRequest]], bool], timeout: float = 5.0) -> bool:
        """Poll until `predicate(requests)` holds; False if it still does not after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate(self.requests):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def start(self) -> ScriptedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._closing = True
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the server side (runs on the server thread) -----------------------------------------

    async def _serve(self) -> None:
        app = web.Application()
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/chat/completions", self._chat_completions)
            app.router.add_get(f"{prefix}/models", self._list_models)
        # handler_cancellation: a client that hangs up cancels its handler, which is how we see it.
        # A short shutdown_timeout: close() must not wait for delayed answers or keep-alive clients.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _list_models(self, request: web.Request) -> web.Response:
        data = [{"id": name, "object": "model", "owned_by": "scripted"} for name in self._models]
        return web.json_response({"object": "list", "data": data})

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"message": "request body is not JSON"}}, status=400)
        record = RecordedRequest(
            model=str(body.get("model", "")),
            messages=list(body.get("messages", [])),
            body=body,
            headers=dict(request.headers),
            started=time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)
            self._in_flight += 1
            self._max_concurrent = max(self._max_concurrent, self._in_flight)
            model_in_flight = self._in_flight_by_model.get(record.model, 0) + 1
            self._in_flight_by_model[record.model] = model_in_flight
            self._max_by_model[record.model] = max(self._max_by_model.get(record.model, 0), model_in_flight)
            policy = self._policy
        try:
            reply = policy(record.model, record.messages)
            reply = Reply(reply) if isinstance(reply, str) else reply
            try:
                return await self._answer(request, record, reply)
            except asyncio.CancelledError:
                # A scripted drop, or close(), is the server hanging up, not the client.
                record.disconnected = not (reply.drop or self._closing)
                raise
        finally:
            record.finished = time.monotonic()
            with self._lock:
                self._in_flight -= 1
                self._in_flight_by_model[record.model] -= 1

    async def _answer(self, request: web.Request, record: RecordedRequest, reply: Reply) -> web.StreamResponse:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        while reply.hold is not None and not reply.hold.is_set():
            await asyncio.sleep(0.02)  # polled, so a client that hangs up still cancels the handler
        if reply.drop:
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError  # nothing more to send; aiohttp discards the handler's result
        body = reply.body if reply.body is not None else _completion_body(record.model, record.messages, reply)
        return web.Response(
            status=reply.status, text=body, content_type="application/json", headers=dict(reply.headers)
        )


def start_scripted_server(policy: Policy | None = None, models: Iterable[str] = ("scripted",)) -> ScriptedServer:
    """Start a scripted server on a free port of 127.0.0.1; call `.close()` (or use `with`) to stop it."""
    return ScriptedServer(policy, models).start()
