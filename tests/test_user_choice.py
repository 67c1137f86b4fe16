"""The user's choice is a signal: accepting a proposal counts for the models that made it, rejecting it against
them, at USER_CHOICE_WEIGHT of a test outcome, in the same local store (an old store file is migrated). The
end-to-end test goes over a real LSP connection to the real server, whose model is the scripted server."""

from __future__ import annotations

import sqlite3

import pytest
from perforch.orchestration.proposal import Proposal
from perforch.orchestration.rankings.learning import Learner
from perforch.orchestration.rankings.matrix import RankedModel, RankingMatrix
from perforch.orchestration.rankings.outcomes import USER_CHOICE_WEIGHT, ModelOutcome, OutcomeStore
from perforch.orchestration.run import Result
from perforch.orchestration.task import ANY_CATEGORY
from test_server import EXAMPLE, _actions, _execute, _line_of, _open, _run, _workspace, client, model_key  # noqa: F401

ROW = ("generate", "python", ANY_CATEGORY)
OLD_SCHEMA = """
CREATE TABLE outcomes (
    id INTEGER PRIMARY KEY, recorded_at TEXT NOT NULL, stage TEXT NOT NULL, language TEXT NOT NULL,
    category TEXT NOT NULL, model TEXT NOT NULL, alias TEXT NOT NULL, passed INTEGER NOT NULL,
    attempts INTEGER NOT NULL, speedup REAL, tokens INTEGER NOT NULL
)
"""


def _passes(model: str, count: int, category: str = "string") -> list[ModelOutcome]:
    return [ModelOutcome("generate", "python", category, model, model, True, 1, None, 10) for _ in range(count)]


def _result(model: str) -> Result:
    result = Result("t", "python", category="string", passed=True)
    result.models = {"categorize": model, "generate": model}
    return result


def test_an_old_store_file_is_migrated_and_keeps_its_outcomes(tmp_path):
    path = tmp_path / "outcomes.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(OLD_SCHEMA)
        db.execute(
            "INSERT INTO outcomes (recorded_at, stage, language, category, model, alias, passed, attempts, speedup,"
            " tokens) VALUES ('2026-01-01', 'generate', 'python', 'string', 'writer', 'writer', 1, 1, NULL, 10)"
        )
    store = OutcomeStore(path)

    assert store.tallies()[("generate", "python", "string", "writer")].trials == 1.0  # a test outcome, weight 1
    store.add(_passes("writer", 1))
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(outcomes)")}
    assert {"signal", "weight"} <= columns and store.count() == 2


async def test_a_reject_counts_against_the_model_at_its_stated_weight(tmp_path):
    prior = RankingMatrix()
    prior.set(*ROW, [RankedModel("writer", 0.5, 100), RankedModel("other", 0.45, 100)])
    store = OutcomeStore(tmp_path / "outcomes.sqlite3")
    store.add(_passes("writer", 6))
    learner = Learner(store, prior_weight=10)
    before = {e.model: e for e in learner.explain(prior, ROW)}["writer"]

    await learner.record_choice(_result("writer"), {}, accepted=False)
    await learner.record_choice(_result("writer"), {}, accepted=True)
    await learner.record_choice(_result("writer"), {}, accepted=False)
    after = {e.model: e for e in Learner(store, prior_weight=10).explain(prior, ROW)}["writer"]  # from the file

    assert USER_CHOICE_WEIGHT == 0.5
    assert (after.accepted, after.rejected) == (1, 2)
    assert after.trials == before.trials + 3 * USER_CHOICE_WEIGHT and after.passes == before.passes + 0.5
    assert after.score == pytest.approx((0.5 * 10 + 6.5) / (10 + 7.5), abs=1e-4) and after.score < before.score
    # a failed test would have moved it further: weight 1 against 0.5
    assert (0.5 * 10 + 6) / (10 + 7) < (0.5 * 10 + 6) / (10 + 6.5)


@pytest.mark.slow
async def test_a_version_accepted_early_is_not_credited_again_with_the_faster_one(tmp_path):
    """Accepting the passing version while refinement runs, then its refinement: the generate model's output was
    credited once already; the second accept counts for the refiner only."""
    seen: list[dict[str, str]] = []

    async def learn(result: Result, accepted: bool) -> None:
        seen.append(dict(result.models))

    file = tmp_path / "core.py"
    early = _result("writer")
    early.source = "def f():\n    return 1  # slow\n"
    refined = _result("writer")
    refined.source, refined.models["refine"] = "def f():\n    return 1\n", "polisher"
    first = Proposal("generate", file, "f", "def f():\n    ...\n", early, "digest", learn)
    final = Proposal("generate", file, "f", "def f():\n    ...\n", refined, "digest", learn).after(first)
    await first.chosen(accepted=True)
    await final.chosen(accepted=True)
    assert seen == [{"categorize": "writer", "generate": "writer"}, {"refine": "polisher"}]
    assert final.original == early.source and "return 1  # slow" in final.diff() and "-" in final.diff()


async def test_a_rejected_proposal_moves_the_models_score_over_lsp(client, tmp_path, scripted_server):  # noqa: F811
    relative, stub, _, _, answer = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, answer) / relative
    # Enough earlier outcomes that the cell has moved from the prior, so one more signal shows in the score.
    OutcomeStore.default().add(_passes("writer", 6, category="string"))
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    result = await _run(client, action)
    assert result["status"] == "done" and result["id"], result
    cell = await _writer_in_string_cell(client)

    assert (await _execute(client, "perforch.discard", result["id"]))["status"] == "discarded"
    rejected = await _writer_in_string_cell(client)

    assert (cell["accepted"], cell["rejected"]) == (0, 0) and rejected["rejected"] == 1
    assert rejected["trials"] == cell["trials"] + USER_CHOICE_WEIGHT and rejected["passes"] == cell["passes"]
    assert rejected["score"] < cell["score"]


async def _writer_in_string_cell(lsp) -> dict:
    answer = await lsp.protocol.send_request_async("perforch/rankings", {"language": "python", "explain": True})
    (cell,) = [c for c in answer["cells"] if (c["stage"], c["category"]) == ("generate", "string")]
    return next(e for e in cell["explain"] if e["model"] == "writer")
