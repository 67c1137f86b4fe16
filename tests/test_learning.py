"""Learning from use: the outcome store, the Beta blend of prior and outcomes, and a stream of real runs
(scripted models, the real Rust toolchain) that reorders the published Rust generation ranking."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from perforch.orchestration.config import PipelineSettings
from perforch.orchestration.models import ModelGateway, ModelSpec
from perforch.orchestration.pipeline import Pipeline
from perforch.orchestration.rankings.learning import Learner
from perforch.orchestration.rankings.matrix import RankedModel, RankingMatrix
from perforch.orchestration.rankings.outcomes import ModelOutcome, OutcomeStore, outcomes_of
from perforch.orchestration.rankings.profiles import load_profile
from perforch.orchestration.rankings.router import Router
from perforch.orchestration.run import Attempt, Result
from perforch.orchestration.task import ANY_CATEGORY, Limits, Task
from perforch.orchestration.validation import ProgramValidator

ROW = ("generate", "rust", ANY_CATEGORY)


def _prior() -> RankingMatrix:
    prior = RankingMatrix()
    prior.set(*ROW, [RankedModel("y", 0.42, 199), RankedModel("x", 0.40, 199)])
    return prior


def _outcomes(model: str, passed: int, failed: int, category: str = "math") -> list[ModelOutcome]:
    results = [True] * passed + [False] * failed
    return [ModelOutcome("generate", "rust", category, model, model, ok, 1, None, 10) for ok in results]


def _learner(tmp_path, *batches: list[ModelOutcome], **settings) -> Learner:
    store = OutcomeStore(tmp_path / "outcomes.sqlite3")
    for batch in batches:
        store.add(batch)
    return Learner(store, **settings)


def test_a_cell_with_fewer_observations_than_the_minimum_does_not_move(tmp_path):
    learner = _learner(tmp_path, _outcomes("x", 4, 0), _outcomes("y", 0, 4), min_observations=5)
    blended = learner.blended(_prior())
    assert blended.cell(*ROW) == _prior().cell(*ROW)  # same order, same scores
    explained = {e.model: e for e in learner.explain(_prior(), ROW)}
    assert (explained["x"].trials, explained["x"].moved) == (4, False)


def test_enough_observations_move_a_score_to_the_beta_posterior(tmp_path):
    learner = _learner(tmp_path, _outcomes("x", 5, 0), _outcomes("y", 1, 4), min_observations=5, prior_weight=10)
    row = learner.blended(_prior()).cell(*ROW)
    assert [r.model for r in row] == ["x", "y"]
    assert row[0].score == pytest.approx((0.40 * 10 + 5) / 15, abs=1e-4)
    assert row[1].score == pytest.approx((0.42 * 10 + 1) / 15, abs=1e-4)
    assert learner.blended(_prior()).provenance_of(ROW).source == "blended with 10 local outcomes"


def test_a_tie_after_learning_keeps_the_priors_order_not_the_alphabet(tmp_path):
    prior = RankingMatrix()
    prior.set(*ROW, [RankedModel("zeta", 0.5, 199), RankedModel("alpha", 0.5, 199)])
    learner = _learner(tmp_path, _outcomes("zeta", 3, 3), _outcomes("alpha", 3, 3), min_observations=5)
    assert [r.model for r in learner.blended(prior).cell(*ROW)] == ["zeta", "alpha"]
    assert [e.model for e in learner.explain(prior, ROW)] == ["zeta", "alpha"]


def test_a_category_cell_appears_only_where_its_own_outcomes_move_it(tmp_path):
    learner = _learner(tmp_path, _outcomes("x", 6, 0, "string"), _outcomes("y", 0, 2, "math"), min_observations=5)
    blended = learner.blended(_prior())
    assert ("generate", "rust", "math") not in blended.cells  # 2 outcomes: the row applies
    string = blended.cell("generate", "rust", "string")
    assert [r.model for r in string] == ["x", "y"]  # y keeps the row's score as its prior
    assert string[1].score == blended.cell(*ROW)[1].score


def test_a_model_the_prior_does_not_rank_enters_once_it_has_enough_outcomes(tmp_path):
    learner = _learner(tmp_path, _outcomes("local", 4, 1), min_observations=5)
    assert [r.model for r in learner.blended(_prior()).cell(*ROW)] == ["local", "y", "x"]  # (1+4)/(2+5) = 0.71


def test_outcomes_are_stored_by_litellm_id_and_survive_a_new_learner(tmp_path):
    result = Result("t", "rust", category="math")
    result.trace += [
        Attempt("generate", "fast", 1, "answered", "", 1.0, 100, 20),
        Attempt("generate", "fast", 1, "test_failed", "", 0.2),
        Attempt("generate", "deep", 1, "answered", "", 1.0, 200, 30),
        Attempt("generate", "deep", 1, "passed", "", 0.2),
        Attempt("generate", "nokey", 1, "auth", "no key", 0.0),  # never answered: no evidence
        Attempt("refine", "deep", 1, "answered", "", 1.0, 50, 5),
        Attempt("refine", "deep", 1, "faster", "1.80x", 0.0, speedup=1.8),
    ]
    ids = {"fast": "openai/gpt-4o-mini", "deep": "o3-2025-04-16"}
    outcomes = outcomes_of(result, ids)
    assert [(o.stage, o.model, o.alias, o.passed, o.tokens, o.speedup) for o in outcomes] == [
        ("generate", "gpt-4o-mini", "fast", False, 120, None),
        ("generate", "o3-2025-04-16", "deep", True, 230, None),
        ("refine", "o3-2025-04-16", "deep", True, 55, 1.8),
    ]
    store = OutcomeStore(tmp_path / "outcomes.sqlite3")
    store.add(outcomes)
    again = OutcomeStore(tmp_path / "outcomes.sqlite3").tallies()
    assert again[("generate", "rust", "math", "o3-2025-04-16")].passes == 1
    assert again[("refine", "rust", "math", "o3-2025-04-16")].trials == 1


async def test_a_locked_store_costs_a_warning_not_the_run(tmp_path, caplog):
    store = OutcomeStore(tmp_path / "outcomes.sqlite3", timeout=0.1)
    store.add(_outcomes("x", 1, 0))
    learner = Learner(store)
    holder = sqlite3.connect(store.path)
    holder.execute("BEGIN EXCLUSIVE")
    result = Result("t", "rust", category="math", trace=[Attempt("generate", "x", 1, "answered", "", 1.0)])
    try:
        started = time.perf_counter()
        with caplog.at_level(logging.WARNING):
            await learner.record(result, {})
        waited = time.perf_counter() - started
    finally:
        holder.rollback()
        holder.close()
    assert "could not record outcomes" in caplog.text
    assert learner.tallies[("generate", "rust", "math", "x")].trials == 2  # still counts in this process
    assert waited < 1.0


async def test_a_corrupt_store_costs_a_warning_not_the_run(tmp_path, caplog):
    path = tmp_path / "outcomes.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING):
        learner = Learner(OutcomeStore(path))
        await learner.record(Result("t", "rust", trace=[Attempt("generate", "x", 1, "answered", "", 1.0)]), {})
    assert "unreadable" in caplog.text and "could not record outcomes" in caplog.text
    assert learner.blended(_prior()).cell(*ROW) == _prior().cell(*ROW)


# -- a stream of real runs -------------------------------------------------------------------------

STUB = "/// The sum of a and b.\nfn add(a: i64, b: i64) -> i64 {\n    todo!()\n}\n"
TEST = "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn adds() { assert_eq!(add(2, 3), 5); }\n}\n"
RIGHT = "```rust\nfn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n```"
WRONG = "```rust\nfn add(a: i64, b: i64) -> i64 {\n    a - b\n}\n```"
STREAM = 20


def _scripted(pass_every_ten: dict[str, int]):
    """Model m answers the n-th task of the stream right when n % 10 < pass_every_ten[m]: 90% and 30%."""
    seen: dict[str, int] = {}

    def policy(model: str, messages: list[dict]) -> str:
        if "classify" in messages[0]["content"]:
            return "math"
        n = seen.get(model, 0)
        seen[model] = n + 1
        return RIGHT if n % 10 < pass_every_ten[model] else WRONG

    return policy


def _published_pair() -> tuple[str, str]:
    """Two models of the shipped Rust generation row: y ranked above x."""
    row = load_profile("default").cell(*ROW)
    return row[0].model, row[1].model


async def test_a_stream_of_runs_flips_the_published_rust_order(scripted_server, isolated_user_data, monkeypatch):
    monkeypatch.setenv("PERFORCH_TEST_KEY", "sk-test")
    y_id, x_id = _published_pair()
    # The server sees litellm ids without the provider prefix; it tracks each model's own task count.
    scripted_server.set_policy(_scripted({x_id: 9, y_id: 3}))
    base = {"api_base": scripted_server.base_url}
    specs = [
        ModelSpec("mine-y", f"openai/{y_id}", base, api_key_env="PERFORCH_TEST_KEY"),
        ModelSpec("mine-x", f"openai/{x_id}", base, api_key_env="PERFORCH_TEST_KEY"),
    ]
    limits = PipelineSettings(generators=2, debuggers=0, refiners=0, model_timeout=30.0)
    ids = {spec.alias: spec.model for spec in specs}
    router = Router(load_profile("default"), "default", ("mine-x", "mine-y"), ids, (), Learner.open())
    pipeline = Pipeline(ModelGateway(specs, retries=0), router, limits, on_finished=router.learn)
    validator = ProgramValidator("rust", TEST, limits=Limits(wall_seconds=20))
    task = Task(language="rust", entry_point="add", source=STUB, visible_test=TEST)

    probe = OutcomeStore(isolated_user_data / "probe.sqlite3")  # what writing one run's outcomes costs
    firsts, record_seconds, flipped_after, x_outcomes_then = [], [], None, 0
    for n in range(1, STREAM + 1):
        result = await pipeline.run(task, validator)
        firsts.append(next(a.model for a in result.trace if a.stage == "generate"))
        started = time.perf_counter()
        probe.add(outcomes_of(result, router.ids))
        record_seconds.append(time.perf_counter() - started)
        order = router.order(*ROW)
        if flipped_after is None and order[0] == "mine-x":
            flipped_after = n
            x_outcomes_then = sum(
                t.trials for k, t in router.learner.tallies.items() if k[:2] == ROW[:2] and k[3] == x_id
            )
    print(f"\nRust generation order flipped after {flipped_after} runs (published: {y_id} before {x_id})")
    print(f"recording outcomes: median {sorted(record_seconds)[len(record_seconds) // 2] * 1000:.1f} ms per run")

    assert firsts[0] == "mine-y"  # the published order, under the user's alias names, and only their models
    assert {a.model for a in result.trace} <= {"mine-x", "mine-y"}
    assert flipped_after is not None and firsts[-1] == "mine-x"
    # x passed every task it got from the start, but its score could only move at the minimum.
    assert x_outcomes_then >= router.learner.min_observations

    # A fresh process reads what was learned from the store.
    config = isolated_user_data / "perforch.toml"
    config.write_text(
        f'[models.mine-y]\nmodel = "openai/{y_id}"\n[models.mine-x]\nmodel = "openai/{x_id}"\n', encoding="utf-8"
    )
    shown = _rankings_json("--language", "rust", "--config", str(config))
    row = next(c for c in shown["cells"] if (c["stage"], c["category"]) == ("generate", ANY_CATEGORY))
    assert row["your_order"] == ["mine-x", "mine-y"]
    assert "local outcomes" in row["provenance"]["source"]


def _rankings_json(*args: str) -> dict:
    command = [sys.executable, "-m", "perforch.cli", "rankings", "--json", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_learn_setting_and_the_users_models(tmp_path):
    from perforch.orchestration.config import ConfigError, load_config

    config = tmp_path / "perforch.toml"
    config.write_text(
        '[models.a]\nmodel = "openai/gpt-4o"\n[models.b]\nmodel = "o3"\n[pipeline]\nmodels = ["b", "x"]\n'
    )
    loaded = load_config(tmp_path)
    assert loaded.pipeline.learn is True
    assert loaded.available_models() == ["b", "x", "a"]  # [pipeline].models, then every other alias
    assert loaded.model_ids() == {"a": "openai/gpt-4o", "b": "o3"}
    config.write_text("[pipeline]\nlearn = false\n")
    assert load_config(tmp_path).pipeline.learn is False
    config.write_text("[pipeline]\nlearn = 'no'\n")
    with pytest.raises(ConfigError, match="pipeline.learn: expected true or false, got 'no'"):
        load_config(tmp_path)
