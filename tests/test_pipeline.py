"""The pipeline end to end: real HTTP through litellm to the scripted server, real toolchains.

Every way a model or its code can fail is a recorded attempt, after which the next ranked model runs.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from perforch.orchestration.config import PipelineSettings
from perforch.orchestration.models import ModelGateway, ModelSpec
from perforch.orchestration.pipeline import Pipeline
from perforch.orchestration.rankings.matrix import RankedModel, RankingMatrix
from perforch.orchestration.rankings.router import Router
from perforch.orchestration.task import Limits, Task
from perforch.orchestration.validation import ProgramValidator
from scripted_server import Reply

STUB = '''def total(values: list[int]) -> int:
    """Sum of the values, each counted once per time it occurs.
    >>> total([1, 2, 3])
    6
    """
'''
VISIBLE_TEST = "assert total([1, 2, 3]) == 6\nassert total([]) == 0\n"
TASK = Task(language="python", entry_point="total", source=STUB, visible_test=VISIBLE_TEST, task_id="demo/0")

GOOD = "```python\ndef total(values: list[int]) -> int:\n    return sum(values)\n```"
WRONG = "```python\ndef total(values: list[int]) -> int:\n    return 0 if not values else 1\n```"
ANSWERS = {
    "rate-limited": Reply.rate_limited(retry_after="1"),
    "broken": Reply.error(500),
    "slow": Reply(GOOD, delay=10),
    "empty": Reply.empty(),
    "garbage": Reply.malformed(),
    "prose": "I would love to help, but I need more details.",
    "wrong-language": "```java\npublic int total(List<Integer> v) { return 0; }\n```",
    "looper": "```python\ndef total(values):\n    while True:\n        pass\n```",
    "forker": "```python\nimport os\ndef total(values):\n    while True:\n        os.fork()\n```",
    "hog": "```python\ndef total(values):\n    x = bytearray(1 << 34)\n    return 0\n```",
    "filler": (
        "```python\ndef total(values):\n    with open('big', 'wb') as f:\n"
        "        while True:\n            f.write(b'x' * (1 << 20))\n```"
    ),
    "wrong": WRONG,
    "good": GOOD,
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gateway(server, **kwargs) -> ModelGateway:
    specs = [
        ModelSpec(name, f"openai/{name}", {"api_base": server.base_url}, api_key_env="PERFORCH_TEST_KEY")
        for name in ANSWERS
    ]
    dead = {"api_base": f"http://127.0.0.1:{_closed_port()}/v1"}
    specs.append(ModelSpec("unreachable", "openai/unreachable", dead, api_key_env="PERFORCH_TEST_KEY"))
    return ModelGateway(specs, retries=1, backoff=0.05, **kwargs)


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("PERFORCH_TEST_KEY", "sk-test-not-a-real-key")


def _pipeline(server, order: list[str], **limits) -> tuple[Pipeline, list]:
    server.set_policy(lambda model, messages: ANSWERS.get(model, "math"))
    events: list = []
    settings = dict(generators=len(order), debuggers=1, debug_rounds=1, refiners=0, model_timeout=3.0)
    settings.update(limits)
    pipeline = Pipeline(
        _gateway(server),
        Router(RankingMatrix(), default_order=tuple(order)),
        PipelineSettings(**settings),
        on_progress=events.append,
    )
    return pipeline, events


def _validator(**limits) -> ProgramValidator:
    return ProgramValidator("python", VISIBLE_TEST, limits=Limits(wall_seconds=3, memory_mb=512, **limits))


async def test_every_failure_is_recorded_and_the_next_model_runs(scripted_server):
    order = ["nonesuch", "unreachable", *ANSWERS]
    pipeline, events = _pipeline(scripted_server, order)
    result = await pipeline.run(TASK, _validator())

    assert result.passed
    assert result.models["generate"] == "good"
    generate = {a.model: a.status for a in result.trace if a.stage == "generate" and a.status != "answered"}
    assert generate == {
        "nonesuch": "unknown_model",
        "unreachable": "unreachable",
        "rate-limited": "rate_limited",
        "broken": "server_error",
        "slow": "timeout",
        "empty": "empty_answer",
        "garbage": generate["garbage"],  # checked below: any recorded model error
        "prose": "invalid",
        "wrong-language": "invalid",
        "looper": "timeout",
        "forker": generate["forker"],
        "hog": generate["hog"],
        "filler": generate["filler"],
        "wrong": "test_failed",
        "good": "passed",
    }
    assert generate["garbage"] in {"server_error", "bad_request", "empty_answer"}
    for runaway in ("forker", "hog", "filler"):
        assert generate[runaway] in {"resource_limit", "timeout", "test_failed"}, runaway
    assert "total" in result.source and "sum(values)" in result.source
    assert any(e.status == "started" and e.model == "good" for e in events)


async def test_debugger_fixes_a_failing_draft(scripted_server):
    pipeline, _ = _pipeline(scripted_server, ["wrong"])
    pipeline.settings = PipelineSettings(generators=1, debuggers=1, debug_rounds=1, refiners=0)
    pipeline.router.prior.set("debug", "python", "*", [RankedModel("good", 1.0)])
    result = await pipeline.run(TASK, _validator())
    assert result.passed
    assert result.models == {"categorize": "wrong", "debug": "good"}
    debug_prompt = next(
        r.messages for r in scripted_server.requests if r.model == "good" and "debugger" in r.messages[0]["content"]
    )
    assert "return 0 if not values else 1" in debug_prompt[-1]["content"]  # it saw the failing code
    assert "AssertionError" in debug_prompt[-1]["content"] or "assert" in debug_prompt[-1]["content"]


def _asked(server, stage_word: str) -> list[str]:
    """The models asked, in order, by requests whose system prompt has `stage_word`."""
    return [r.model for r in server.requests if stage_word in r.messages[0]["content"]]


@pytest.mark.parametrize(
    ("fallback", "generators_asked"), [("breadth-first", ["wrong", "prose"]), ("per-generator", ["wrong"])]
)
async def test_fallback_order_decides_when_the_next_generator_is_asked(scripted_server, fallback, generators_asked):
    """Breadth-first drafts with every generator before debugging; per-generator (the paper's) debugs the first
    draft before asking the next generator, so here it never does."""
    pipeline, _ = _pipeline(scripted_server, ["wrong", "prose"], fallback=fallback)
    pipeline.router.prior.set("debug", "python", "*", [RankedModel("good", 1.0)])
    result = await pipeline.run(TASK, _validator())
    assert result.passed and result.models["debug"] == "good"
    assert [a.model for a in result.trace if a.stage == "generate" and a.status != "answered"] == generators_asked


async def test_a_single_model_baseline_gets_the_routed_runs_budget(scripted_server):
    """`--single-model` fills every slot: three generate attempts and two debuggers, as a routed run has."""
    settings = PipelineSettings(
        generators=3, debuggers=2, debug_rounds=1, refiners=0, model_timeout=3.0, fallback="breadth-first"
    )
    scripted_server.set_policy(lambda model, messages: "math" if "classify" in messages[0]["content"] else WRONG)
    pipeline = Pipeline(_gateway(scripted_server), Router.single("wrong"), settings)
    result = await pipeline.run(TASK, _validator())
    assert not result.passed
    tried = [(a.stage, a.model) for a in result.trace if a.status != "answered"]
    assert tried.count(("generate", "wrong")) == 3 and tried.count(("debug", "wrong")) == 2


SLOW = (
    "```python\ndef total(values: list[int]) -> int:\n    s = 0\n    for i in range(len(values)):\n"
    "        s += sum(values[i:i + 1]) + 0 * sum(values[:i])\n    return s\n```"
)
HEAVY_TEST = "assert total(list(range(6000))) == sum(range(6000))\n" + VISIBLE_TEST


REFINERS = {"slow-writer": SLOW, "wrong-refiner": WRONG, "same-refiner": SLOW, "fast-refiner": GOOD}


def _refiner_specs(server) -> list[ModelSpec]:
    server.set_policy(lambda model, messages: REFINERS.get(model, "math"))
    api = {"api_base": server.base_url}
    return [ModelSpec(n, f"openai/{n}", api, api_key_env="PERFORCH_TEST_KEY") for n in REFINERS]


async def test_exhaustive_refinement_asks_every_model_from_the_same_version(scripted_server):
    rankings = RankingMatrix()
    rankings.set("refine", "python", "*", [RankedModel("wrong-refiner", 0.9), RankedModel("same-refiner", 0.8)])
    settings = PipelineSettings(generators=1, debuggers=0, refiners=1, refine="exhaustive")
    router = Router(rankings, available=tuple(REFINERS), default_order=tuple(REFINERS))
    pipeline = Pipeline(ModelGateway(_refiner_specs(scripted_server)), router, settings)
    result = await pipeline.run(TASK, ProgramValidator("python", HEAVY_TEST, limits=Limits(wall_seconds=20), runs=3))

    asked = [a.model for a in result.trace if a.stage == "refine" and a.status == "answered"]
    assert asked == ["wrong-refiner", "same-refiner", "slow-writer", "fast-refiner"]  # all, not `refiners`
    prompts = [r.messages[-1]["content"] for r in scripted_server.requests if "performance" in r.messages[0]["content"]]
    assert len(prompts) == 4 and all("sum(values[i:i + 1])" in prompt for prompt in prompts)  # one start for all
    assert result.models["refine"] == "fast-refiner" and "sum(values)" in result.source


# A quarter of SLOW's quadratic work: faster than SLOW, slower than GOOD.
MEDIUM = (
    "```python\ndef total(values: list[int]) -> int:\n    s = 0\n    for i in range(len(values)):\n"
    "        s += values[i] + 0 * (sum(values[:i]) if i % 4 == 0 else 0)\n    return s\n```"
)


async def test_exhaustive_refinement_keeps_the_fastest_not_the_first_faster_one(scripted_server):
    answers = {"slow-writer": SLOW, "medium-refiner": MEDIUM, "fast-refiner": GOOD}
    scripted_server.set_policy(lambda model, messages: answers[model])
    api = {"api_base": scripted_server.base_url}
    specs = [ModelSpec(n, f"openai/{n}", api, api_key_env="PERFORCH_TEST_KEY") for n in answers]
    rankings = RankingMatrix()
    rankings.set("refine", "python", "*", [RankedModel("medium-refiner", 0.9), RankedModel("fast-refiner", 0.8)])
    settings = PipelineSettings(generators=1, debuggers=0, refiners=1, refine="exhaustive")
    router = Router(rankings, available=tuple(answers), default_order=tuple(answers))
    pipeline = Pipeline(ModelGateway(specs), router, settings)
    result = await pipeline.run(TASK, ProgramValidator("python", HEAVY_TEST, limits=Limits(wall_seconds=20), runs=3))

    judged = {a.model: a.status for a in result.trace if a.stage == "refine" and a.status in ("faster", "not_faster")}
    assert judged["medium-refiner"] == "faster" and judged["fast-refiner"] == "faster"  # both kept against SLOW
    assert result.models["refine"] == "fast-refiner" and "sum(values)" in result.source


async def test_refinement_keeps_only_faster_correct_code(scripted_server):
    specs = _refiner_specs(scripted_server)
    rankings = RankingMatrix()
    rankings.set(
        "refine",
        "python",
        "*",
        [RankedModel("wrong-refiner", 0.9), RankedModel("same-refiner", 0.8), RankedModel("fast-refiner", 0.7)],
    )
    limits = PipelineSettings(generators=1, debuggers=0, refiners=3, refine_threshold=1.1)
    offered = []  # each better version, as soon as it exists
    router = Router(rankings, default_order=("slow-writer",))
    pipeline = Pipeline(ModelGateway(specs), router, limits, on_version=offered.append)
    validator = ProgramValidator("python", HEAVY_TEST, limits=Limits(wall_seconds=20), runs=3)
    result = await pipeline.run(TASK, validator)

    assert result.passed
    assert result.models["generate"] == "slow-writer"
    assert result.models["refine"] == "fast-refiner"
    assert "sum(values)" in result.source
    assert result.speedup and result.speedup > 1.1
    refine = [(a.model, a.status) for a in result.trace if a.stage == "refine" and a.status != "answered"]
    assert ("wrong-refiner", "test_failed") in refine
    assert ("same-refiner", "not_faster") in refine
    assert ("fast-refiner", "faster") in refine
    # The passing version was offered before any refiner was asked, then the faster one once it was kept.
    first, faster = offered
    assert first.passed and first.source == result.first_passing_source and "refine" not in first.models
    assert not any(a.stage == "refine" for a in first.trace), "a snapshot, taken before refinement"
    assert faster.source == result.source and faster.models["refine"] == "fast-refiner"
    assert faster.speedup == result.speedup


async def test_cancel_closes_the_model_request(scripted_server):
    pipeline, _ = _pipeline(scripted_server, ["slow"], model_timeout=30.0)
    run = asyncio.create_task(pipeline.run(TASK, _validator()))
    assert await asyncio.to_thread(scripted_server.wait_for, lambda reqs: any(r.model == "slow" for r in reqs))
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert await asyncio.to_thread(
        scripted_server.wait_for, lambda reqs: any(r.model == "slow" and r.disconnected for r in reqs)
    )


async def test_token_budget_stops_calling_models(scripted_server):
    pipeline, _ = _pipeline(scripted_server, ["wrong", "good"])
    pipeline.gateway = _gateway(scripted_server, token_budget=1)
    result = await pipeline.run(TASK, _validator())
    assert not result.passed
    assert any(a.status == "budget_exceeded" for a in result.trace)


async def test_optimize_refines_a_finished_function_and_refuses_a_failing_one(scripted_server):
    answers = {"fast-refiner": GOOD}
    scripted_server.set_policy(lambda model, messages: answers.get(model, "math"))
    spec = ModelSpec(
        "fast-refiner", "openai/fast-refiner", {"api_base": scripted_server.base_url}, api_key_env="PERFORCH_TEST_KEY"
    )
    pipeline = Pipeline(
        ModelGateway([spec]),
        Router(RankingMatrix(), default_order=("fast-refiner",)),
        PipelineSettings(refiners=1, refine_threshold=1.1),
    )
    validator = ProgramValidator("python", HEAVY_TEST, limits=Limits(wall_seconds=20), runs=3)
    slow_source = SLOW.split("\n", 1)[1].rsplit("```", 1)[0]
    result = await pipeline.optimize(Task("python", "total", slow_source, HEAVY_TEST), validator)
    assert result.models.get("refine") == "fast-refiner"
    assert result.speedup > 1.1 and "sum(values)" in result.source

    scripted_server.clear()
    broken = WRONG.split("\n", 1)[1].rsplit("```", 1)[0]
    result = await pipeline.optimize(Task("python", "total", broken, HEAVY_TEST), validator)
    assert not result.passed and result.source is None
    assert result.trace[0].status == "test_failed"
    assert scripted_server.requests == []  # no model is asked to speed up wrong code
