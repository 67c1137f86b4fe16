"""ModelGateway against the scripted server: real HTTP through real litellm, nothing mocked."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.request
from email.utils import formatdate
from pathlib import Path

import pytest
from perforch.orchestration.models import (
    ModelError,
    ModelGateway,
    ModelSpec,
    Usage,
    UsageLedger,
    UsageTotals,
    _parse_retry_after,
)
from scripted_server import Reply, ScriptedServer, by_model, in_order

KEY_ENV = "PERFORCH_TEST_KEY"
# Not shaped like any provider's key, so litellm's own redaction cannot hide a leak of ours.
KEY = "pf-test-7d1c9e0b4a5f"
ASK = [{"role": "user", "content": "write a function"}]


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def spec(server: ScriptedServer, alias: str = "a", model: str = "openai/scripted-a", **kwargs) -> ModelSpec:
    return ModelSpec(alias, model, {"api_base": server.base_url}, KEY_ENV, **kwargs)


def gateway(server: ScriptedServer, *specs: ModelSpec, **kwargs) -> ModelGateway:
    kwargs.setdefault("backoff", 0.01)
    return ModelGateway(specs or [spec(server)], **kwargs)


async def failure(call) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await call
    return caught.value


async def eventually(server: ScriptedServer, predicate, timeout: float = 5.0) -> bool:
    # In a thread: the client's side of a disconnect may need this event loop to run.
    return await asyncio.to_thread(server.wait_for, predicate, timeout)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_answer_carries_text_and_token_counts(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply("def f(): pass", prompt_tokens=12, completion_tokens=5))
    models = gateway(scripted_server)

    answer = await models.complete("a", ASK, stage="generate")

    assert (answer.text, answer.model, answer.prompt_tokens, answer.completion_tokens) == ("def f(): pass", "a", 12, 5)
    assert answer.cost_usd == 0.0 and answer.seconds > 0
    (request,) = scripted_server.requests
    assert request.model == "scripted-a" and request.messages == ASK
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert models.ledger.records == [Usage("a", "generate", 12, 5, 0.0, priced=False)]


async def test_rate_limit_waits_for_retry_after_then_succeeds(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(in_order(Reply.rate_limited(retry_after="1"), Reply("done")))

    answer = await gateway(scripted_server).complete("a", ASK)

    assert answer.text == "done"
    first, second = scripted_server.requests
    assert 1.0 <= second.started - first.started < 1.6


async def test_retry_after_longer_than_max_wait_gives_up_at_once(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply.rate_limited(retry_after="120"))
    started = time.monotonic()

    error = await failure(gateway(scripted_server, max_retry_wait=5).complete("a", ASK))

    assert error.kind == "rate_limited" and error.retry_after == 120
    assert len(scripted_server.requests) == 1 and time.monotonic() - started < 1


def test_retry_after_is_seconds_or_an_http_date() -> None:
    assert _parse_retry_after("3") == 3.0
    assert _parse_retry_after(None, "1500") == 1.5
    assert 8 <= _parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10
    assert _parse_retry_after(formatdate(time.time() - 10, usegmt=True)) == 0.0
    assert _parse_retry_after("soon") is None


async def test_server_errors_are_retried_then_reported(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply.error(500, "boom"))

    error = await failure(gateway(scripted_server, retries=2).complete("a", ASK))

    assert error.kind == "server_error" and error.model == "a"
    assert "HTTP 500" in error.message and "boom" in error.message and "after 3 attempts" in error.message
    assert len(scripted_server.requests) == 3


async def test_server_error_then_success(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(in_order(Reply.error(503), Reply.dropped(), Reply("fine")))

    answer = await gateway(scripted_server).complete("a", ASK)

    assert answer.text == "fine" and len(scripted_server.requests) == 3


@pytest.mark.parametrize(("status", "kind"), [(400, "bad_request"), (404, "bad_request"), (401, "auth"), (403, "auth")])
async def test_client_errors_are_not_retried(scripted_server: ScriptedServer, status: int, kind: str) -> None:
    scripted_server.set_policy(lambda model, messages: Reply.error(status, "no"))

    error = await failure(gateway(scripted_server).complete("a", ASK))

    assert error.kind == kind and f"HTTP {status}" in error.message
    assert len(scripted_server.requests) == 1


async def test_malformed_answer_is_a_server_error_not_retried(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply.malformed())

    error = await failure(gateway(scripted_server).complete("a", ASK))

    assert error.kind == "server_error" and "malformed JSON" in error.message
    assert len(scripted_server.requests) == 1


async def test_slow_answer_times_out_and_drops_the_request(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply("late", delay=30))
    started = time.monotonic()

    error = await failure(gateway(scripted_server).complete("a", ASK, timeout=0.5))

    assert error.kind == "timeout" and "0.5 s" in error.message
    assert time.monotonic() - started < 10  # the 0.5 s deadline ended it, not the 30 s answer (slack for load)
    # Recorded once the server notices the disconnect. A timeout is the deadline: never retried.
    assert await eventually(scripted_server, lambda requests: len(requests) == 1 and requests[0].disconnected)


async def test_closed_port_is_unreachable_quickly() -> None:
    port = closed_port()
    models = ModelGateway([ModelSpec("down", "openai/x", {"api_base": f"http://127.0.0.1:{port}/v1"}, KEY_ENV)])
    models.resolve("openai/x")  # litellm's import (seconds, once per process) is not what this test times
    started = time.monotonic()

    error = await failure(models.complete("down", ASK))

    assert error.kind == "unreachable" and f"127.0.0.1:{port}" in error.message
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("text", ["", "  \n\t "])
async def test_empty_answer(scripted_server: ScriptedServer, text: str) -> None:
    scripted_server.set_policy(lambda model, messages: Reply(text, prompt_tokens=7, completion_tokens=1))
    models = gateway(scripted_server)

    error = await failure(models.complete("a", ASK))

    assert error.kind == "empty_answer"
    assert models.ledger.tokens == 8  # the tokens were spent all the same


async def test_unknown_alias_fails_without_http(scripted_server: ScriptedServer) -> None:
    error = await failure(gateway(scripted_server).complete("b", ASK))
    typo = await failure(gateway(scripted_server, spec(scripted_server, alias="fast")).complete("fsat", ASK))

    assert error.kind == "unknown_model" and error.model == "b"
    assert "did you mean 'fast'?" in typo.message
    assert scripted_server.requests == []


def test_bare_litellm_ids_resolve_without_config() -> None:
    models = ModelGateway()

    assert models.resolve("openai/some-new-model").model == "openai/some-new-model"
    assert models.resolve("gpt-4o-mini").alias == "gpt-4o-mini"


async def test_missing_key_variable_is_an_auth_error_without_http(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)

    error = await failure(gateway(scripted_server).complete("a", ASK))

    assert error.kind == "auth" and KEY_ENV in error.message
    assert scripted_server.requests == []


async def test_no_key_at_all_is_an_auth_error_without_http(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    models = ModelGateway([ModelSpec("a", "openai/scripted-a", {"api_base": scripted_server.base_url})])

    error = await failure(models.complete("a", ASK))

    assert error.kind == "auth" and "api_key" in error.message  # litellm calls this a 500; it is not
    assert scripted_server.requests == []


async def test_params_and_max_tokens_reach_the_server(scripted_server: ScriptedServer) -> None:
    configured = ModelSpec(
        "a", "openai/scripted-a", {"api_base": scripted_server.base_url, "temperature": 0.3}, KEY_ENV
    )

    await gateway(scripted_server, configured).complete("a", ASK, max_tokens=64)

    body = scripted_server.requests[0].body
    assert body["temperature"] == 0.3 and body["max_tokens"] == 64


async def test_cancelling_a_call_closes_its_connection(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply("late", delay=10))
    call = asyncio.create_task(gateway(scripted_server).complete("a", ASK))
    assert await eventually(scripted_server, lambda requests: len(requests) == 1)

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    assert await eventually(scripted_server, lambda requests: requests[0].disconnected, timeout=2)


async def test_concurrency_limit_per_model(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply("ok", delay=0.2))
    models = gateway(scripted_server, spec(scripted_server, max_concurrency=2), spec(scripted_server, alias="b"))

    answers = await asyncio.gather(*(models.complete("a", ASK) for _ in range(6)))

    assert len(answers) == 6 and scripted_server.max_concurrent == 2
    scripted_server.clear()
    await asyncio.gather(*(models.complete(alias, ASK) for alias in "aab"))  # each model has its own limit
    assert scripted_server.max_concurrent == 3


async def test_token_budget_refuses_calls_once_spent(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply("ok", prompt_tokens=10, completion_tokens=10))
    models = gateway(scripted_server, token_budget=30)

    await models.complete("a", ASK)
    await models.complete("a", ASK)  # 20 < 30 before this call; 40 after
    error = await failure(models.complete("a", ASK))

    assert error.kind == "budget_exceeded" and "30" in error.message
    assert len(scripted_server.requests) == 2


async def test_costs_from_litellm_price_map(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(lambda model, messages: Reply("ok", prompt_tokens=1000, completion_tokens=500))
    priced = spec(scripted_server, alias="mini", model="openai/gpt-4o-mini")
    models = gateway(scripted_server, spec(scripted_server), priced)

    free = await models.complete("a", ASK, stage="generate")
    paid = await models.complete("mini", ASK, stage="debug")

    assert free.cost_usd == 0.0
    assert paid.cost_usd == pytest.approx(1000 * 0.15e-6 + 500 * 0.6e-6)
    # Each call's usage as recorded (what a run's trace and the server's session totals are made of).
    by_call = {(usage.model, usage.stage): usage for usage in models.ledger.records}
    assert by_call["mini", "debug"].cost_usd == paid.cost_usd and by_call["a", "generate"].tokens == 1500
    assert len(models.ledger.records) == 2 and models.ledger.totals().calls == 2
    assert models.ledger.cost_usd == paid.cost_usd and models.ledger.tokens == 3000


async def test_key_never_appears_in_logs_errors_or_reprs(
    scripted_server: ScriptedServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    models = gateway(scripted_server)
    policies = [Reply("ok"), Reply.error(401, f"Incorrect API key provided: {KEY}"), Reply.error(500), Reply.dropped()]
    errors = []
    for reply in policies:
        scripted_server.set_policy(lambda model, messages, reply=reply: reply)
        try:
            await models.complete("a", ASK)
        except ModelError as error:
            errors.append(error)

    assert [error.kind for error in errors] == ["auth", "server_error", "unreachable"]
    shown = [str(error) for error in errors] + [repr(error) for error in errors] + [repr(models.resolve("a"))]
    assert not any(KEY in text for text in shown)
    assert KEY not in caplog.text
    out, err = capfd.readouterr()
    assert KEY not in out + err
    assert out == ""  # stdout is the language server's protocol channel


def test_spec_repr_masks_secret_params() -> None:
    headers = {"Authorization": "Bearer s3cret", "X-Trace": "1"}
    shown = repr(ModelSpec("a", "openai/x", {"extra_headers": headers, "api_key": "s3cret", "temperature": 0}))

    assert "s3cret" not in shown and "X-Trace" in shown and "temperature" in shown


def test_ledger_totals() -> None:
    ledger = UsageLedger()
    ledger.record(Usage("a", "generate", 10, 5, 0.01))
    ledger.record(Usage("b", "generate", 1, 1, 0.0))
    ledger.record(Usage("a", "debug", 2, 2, 0.02))

    assert ledger.tokens == 21 and ledger.cost_usd == pytest.approx(0.03)
    assert (ledger.totals().calls, ledger.totals().prompt_tokens, ledger.totals().completion_tokens) == (3, 13, 8)
    # Totals over several ledgers' records, as the language server sums its jobs'.
    other = UsageLedger()
    other.record(Usage("a", "refine", 4, 0, 0.5))
    session = UsageTotals.of(usage for each in (ledger, other) for usage in each.records)
    assert session.calls == 4 and session.tokens == 25 and session.cost_usd == pytest.approx(0.53)


FIRST_CALL = """
import asyncio, os, sys
from perforch.orchestration.config import Config
assert "litellm" not in sys.modules, "litellm imported at module import"
from scripted_server import start_scripted_server
from perforch.orchestration.models import ModelGateway, ModelSpec
with start_scripted_server() as server:
    models = ModelGateway([ModelSpec("a", "openai/scripted-a", {"api_base": server.base_url}, "PERFORCH_TEST_KEY")])
    print(asyncio.run(models.complete("a", [{"role": "user", "content": "hi"}], timeout=1.5)).text)
"""


def test_litellm_is_imported_on_first_call_outside_its_deadline() -> None:
    # A fresh interpreter: importing litellm takes seconds, which must neither slow module import
    # (a language server starts fast) nor count against the first call's deadline.
    tests = str(Path(__file__).parent)
    done = subprocess.run([sys.executable, "-c", FIRST_CALL], cwd=tests, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


async def test_scripted_server_dispatches_by_model_and_lists_models(scripted_server: ScriptedServer) -> None:
    scripted_server.set_policy(by_model({"scripted-a": "from a", "scripted-b": lambda model, messages: "from b"}))
    models = gateway(scripted_server, spec(scripted_server), spec(scripted_server, "b", "openai/scripted-b"))
    models.specs["c"] = spec(scripted_server, "c", "openai/scripted-c")

    assert (await models.complete("a", ASK)).text == "from a"
    assert (await models.complete("b", ASK)).text == "from b"
    assert (await failure(models.complete("c", ASK))).kind == "bad_request"  # 404: no such model
    with urllib.request.urlopen(f"{scripted_server.base_url}/models") as listing:
        assert json.load(listing)["data"][0]["id"] == "scripted"


def test_without_configured_models_the_reachable_ones_are_those_with_a_key(monkeypatch):
    from perforch.orchestration.models import with_keys_in_environment

    for name in ("OPENAI_API_KEY", "DEEPSEEK_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
    published = ["o3-2025-04-16", "deepseek/deepseek-chat", "gemini/gemini-2.5-pro", "deepseek/deepseek-reasoner"]
    assert with_keys_in_environment(published) == ["deepseek/deepseek-chat", "deepseek/deepseek-reasoner"]
