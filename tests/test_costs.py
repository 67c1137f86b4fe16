"""Dollar caps a user can trust: every call priced (litellm's map, or the prices a [models.*] table gives),
checked before it starts against its expected cost, unpriced kept apart from free. Real HTTP through litellm
to the scripted server; the scripted models get their prices through litellm's custom pricing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from perforch.orchestration.config import PipelineSettings
from perforch.orchestration.models import CostCap, ModelError, ModelGateway, ModelSpec, UsageLedger
from perforch.orchestration.pipeline import Pipeline
from perforch.orchestration.rankings.matrix import RankedModel, RankingMatrix
from perforch.orchestration.rankings.router import Router
from perforch.orchestration.task import Limits, Task
from perforch.orchestration.validation import ProgramValidator
from scripted_server import Reply, ScriptedServer
from test_server import EXAMPLE, _actions, _open, _run, _workspace, client, model_key  # noqa: F401
from test_server import _line_of as _line_in

KEY_ENV = "PERFORCH_TEST_KEY"
ASK = [{"role": "user", "content": "Write a function that adds two numbers."}]
CHEAP = {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}
DEAR = {"input_cost_per_token": 1e-4, "output_cost_per_token": 2e-4}

STUB = 'def total(values: list[int]) -> int:\n    """Sum of the values."""\n'
TASK = Task("python", "total", STUB, visible_test="assert total([1, 2, 3]) == 6\n", task_id="costs/0")
GOOD = "```python\ndef total(values: list[int]) -> int:\n    return sum(values)\n```"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")


def _spec(server: ScriptedServer, name: str, prices: dict | None = None) -> ModelSpec:
    return ModelSpec(name, f"openai/{name}", {"api_base": server.base_url, **(prices or {})}, KEY_ENV)


def _answers(server: ScriptedServer, text: str = "ok") -> None:
    server.set_policy(lambda model, messages: Reply(text, prompt_tokens=1000, completion_tokens=100))


async def test_custom_prices_price_the_scripted_answers_and_unpriced_stays_distinct(scripted_server):
    _answers(scripted_server)
    models = ModelGateway([_spec(scripted_server, "cheap", CHEAP), _spec(scripted_server, "custom")])

    paid = await models.complete("cheap", ASK)
    unknown = await models.complete("custom", ASK)

    # litellm registered the table's prices for openai/cheap and priced the server's usage by them
    assert paid.priced and paid.cost_usd == pytest.approx(1000 * 1e-6 + 100 * 2e-6)
    assert not unknown.priced and unknown.cost_usd == 0.0
    totals = models.ledger.totals()
    assert (totals.calls, totals.unpriced_calls) == (2, 1)
    assert totals.cost_shown == "$0.0012 + 1 unpriced call"


async def test_a_call_that_would_pass_the_cap_is_never_sent(scripted_server):
    _answers(scripted_server)
    ledger = UsageLedger()
    cheap, dear = _spec(scripted_server, "cheap", CHEAP), _spec(scripted_server, "dear", DEAR)
    models = ModelGateway([cheap, dear], ledger=ledger, cost_caps=[CostCap(0.05, ledger)])

    expected = models.expected_cost("dear", ASK)
    await models.complete("cheap", ASK)
    with pytest.raises(ModelError) as refused:
        await models.complete("dear", ASK)

    # expected: the prompt as litellm counts it, and an answer of the default size, at the table's prices
    assert expected.answer_tokens == 1024 and 0 < expected.prompt_tokens < 50
    assert expected.cost_usd == pytest.approx(expected.prompt_tokens * 1e-4 + 1024 * 2e-4)
    assert refused.value.kind == "budget_exceeded"
    assert "stopped before the call" in refused.value.message and "$0.0500" in refused.value.message
    assert "max_cost_usd" in refused.value.message
    assert [r.model for r in scripted_server.requests] == ["cheap"]
    assert ledger.cost_usd <= 0.05 and ledger.in_flight_usd == 0


async def test_a_cap_refuses_a_model_nothing_prices(scripted_server):
    _answers(scripted_server)
    ledger = UsageLedger()
    models = ModelGateway([_spec(scripted_server, "custom")], ledger=ledger, cost_caps=[CostCap(1.0, ledger)])

    with pytest.raises(ModelError) as refused:
        await models.complete("custom", ASK)

    assert refused.value.kind == "unpriced" and "input_cost_per_token" in refused.value.message
    assert scripted_server.requests == []


async def test_the_session_cap_counts_every_jobs_spending(scripted_server):
    _answers(scripted_server)
    session = UsageLedger()
    specs = [_spec(scripted_server, "cheap", CHEAP)]
    caps = [CostCap(0.004, session, "this session", "[pipeline] session_max_cost_usd")]
    first, second = UsageLedger(parent=session), UsageLedger(parent=session)

    await ModelGateway(specs, ledger=first, cost_caps=caps).complete("cheap", ASK)  # $0.0012 spent
    with pytest.raises(ModelError) as refused:  # $0.0012 + about $0.0021 expected + ... > $0.004
        gateway = ModelGateway(specs, ledger=second, cost_caps=caps)
        await gateway.complete("cheap", ASK)
        await gateway.complete("cheap", ASK)

    assert "this session" in refused.value.message and "session_max_cost_usd" in refused.value.message
    assert session.totals().calls == 2 and len(scripted_server.requests) == 2
    assert session.cost_usd <= 0.004 + 0.0012  # never more than one call over


async def test_a_job_whose_cap_would_be_exceeded_stops_before_the_call_and_keeps_its_passing_version(
    scripted_server,
):
    scripted_server.set_policy(lambda model, messages: Reply(GOOD, prompt_tokens=1000, completion_tokens=100))
    ledger = UsageLedger()
    specs = [_spec(scripted_server, "writer", CHEAP), _spec(scripted_server, "dear", DEAR)]
    gateway = ModelGateway(specs, ledger=ledger, cost_caps=[CostCap(0.05, ledger)])
    rankings = RankingMatrix()
    rankings.set("refine", "python", "*", [RankedModel("dear", 0.9)])
    settings = PipelineSettings(generators=1, debuggers=1, refiners=1)
    pipeline = Pipeline(gateway, Router(rankings, default_order=("writer",)), settings)

    estimate = pipeline.estimate(TASK)
    result = await pipeline.run(TASK, ProgramValidator("python", TASK.visible_test, limits=Limits(wall_seconds=10)))

    # categorize, generate, refine (+ 2 debug rounds at most); the dear refiner alone is expected to pass the cap
    assert estimate.first_pass_calls == 3 and estimate.first_pass_usd > 0.05 and not estimate.unpriced
    assert estimate.at_most_calls == 5 and estimate.at_most_usd > estimate.first_pass_usd
    assert result.passed and "sum(values)" in result.source  # the best version so far is kept
    assert "stopped before the call" in result.stopped and "$0.0500" in result.stopped
    assert ("refine", "dear", "budget_exceeded") in [(a.stage, a.model, a.status) for a in result.trace]
    assert "dear" not in [r.model for r in scripted_server.requests]
    assert result.cost_usd == pytest.approx(2 * (1000 * 1e-6 + 100 * 2e-6))  # categorize and generate


PYTHON_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "python"
VOWELS = 'def count_vowels(text: str) -> int:\n    return sum(1 for ch in text.lower() if ch in "aeiou")\n'


@pytest.mark.slow
def test_the_cli_shows_the_estimate_and_says_the_cap_stopped_it(tmp_path, scripted_server):
    root = tmp_path / "python"
    shutil.copytree(PYTHON_EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__"))
    tables = [
        f'[models.{name}]\nmodel = "openai/{name}"\napi_base = "{scripted_server.base_url}"\n'
        + f'api_key_env = "{KEY_ENV}"\n'
        + "".join(f"{key} = {value}\n" for key, value in prices.items())
        for name, prices in (("writer", CHEAP), ("dear", DEAR))
    ]
    pipeline = (
        '[pipeline]\nmodels = ["writer", "dear"]\nrefiners = 2\nrefine_runs = 3\ntest_timeout = 120.0\n'
        "max_cost_usd = 0.05\n"
    )
    (root / "perforch.toml").write_text("\n".join([*tables, pipeline]))
    answer = f"```python\n{VOWELS}```"
    scripted_server.set_policy(lambda model, messages: "string" if "classify" in messages[0]["content"] else answer)
    file = root / "textstats" / "core.py"
    line = next(n for n, text in enumerate(file.read_text().splitlines(), 1) if "def count_vowels" in text)

    run = subprocess.run(
        [sys.executable, "-m", "perforch.cli", "generate", str(file), "--line", str(line), "--json"],
        cwd=root,
        env={**os.environ, KEY_ENV: "sk-test"},
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    estimate = next(line for line in run.stderr.splitlines() if line.startswith("estimate:"))
    assert "if the first draft passes" in estimate and "cap $0.0500 per job" in estimate
    report = json.loads(run.stdout)
    assert report["passed"] and report["changed"]
    assert "stopped before the call" in report["stopped"] and "stopped before the call" in report["summary"]
    assert "dear" not in [r.model for r in scripted_server.requests]


async def test_a_capped_profile_stops_instead_of_counting_calls_not_made_as_failures(scripted_server):
    from humaneval_models import BENCHMARK
    from perforch.orchestration.benchmark import load_benchmark
    from perforch.orchestration.profiling import Profiler, ProfileStopped

    _answers(scripted_server)
    ledger = UsageLedger()
    gateway = ModelGateway([_spec(scripted_server, "cheap", CHEAP)], ledger=ledger, cost_caps=[CostCap(1e-6, ledger)])
    problems = load_benchmark(BENCHMARK, ["python"], 1)

    with pytest.raises(ProfileStopped, match="wrote no profile.*stopped before the call"):
        await Profiler(gateway, ["cheap"], Limits(wall_seconds=10), 1.1).profile_problem(problems[0])
    assert scripted_server.requests == []


@pytest.mark.slow
async def test_the_session_cap_stops_the_next_job_and_status_reports_the_spend(client, tmp_path, scripted_server):  # noqa: F811
    relative, stub, _, _, code = EXAMPLE["python"]
    root = _workspace(tmp_path, "python", scripted_server, code)
    prices = "input_cost_per_token = 1e-06\noutput_cost_per_token = 2e-06\nmax_tokens = 100\n"
    config = root / "perforch.toml"
    config.write_text(
        config.read_text().replace("[pipeline]\n", f"{prices}[pipeline]\nsession_max_cost_usd = 0.0028\n")
    )

    def policy(model: str, messages: list[dict]) -> Reply:
        text = "string" if "classify" in messages[0]["content"] else f"```python\n{code}```"
        return Reply(text, prompt_tokens=1000, completion_tokens=100)  # $0.0012 a call

    scripted_server.set_policy(policy)
    file = root / relative
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_in(file, stub))

    first = await _run(client, action)  # categorize and generate: about $0.0006 expected each, $0.0024 spent
    status = await client.protocol.send_request_async("perforch/status", {})
    second = await _run(client, action)  # its first call would pass $0.0028: not made

    assert first["passed"] and not first["stopped"] and first["cost_usd"] == pytest.approx(0.0024)
    assert status["cost_usd"] == pytest.approx(0.0024) and status["cost"] == "$0.0024"
    assert not second["passed"] and "this session has spent $0.0024 of its $0.0028 cap" in second["stopped"]
    assert "session_max_cost_usd" in second["summary"] and len(scripted_server.requests) == 2
