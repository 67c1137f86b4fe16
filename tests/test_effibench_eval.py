"""`perforch eval` on EffiBench-X through the real CLI, against scripted models over real HTTP, on the real Aizu
problem (io) and the functional Two Sum fixture (tests/effibench_models.py): the canonical answer passes and is
scored against the canonical solution timed in the same run; an always-wrong generator is repaired by a
debugger shown only the visible failures; a program that passes only the shown examples fails the scoring.
Python and Go here (Java, C++ and Rust run the same path; tests/test_effibench.py runs their programs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from effibench_models import (
    CANONICAL,
    FIXER,
    MODELS,
    OVERFIT,
    WRONG,
    EffiBenchModels,
    two_sum_record,
    write_fixtures,
)
from perforch.orchestration.efficiency.effibench import load_effibench
from perforch.orchestration.efficiency.effibench_evaluation import effibench_units

YOKOHAMA_ID = "EffiBench-X/aizu_1444_yokohama-phenomena"
TWO_SUM_ID = "EffiBench-X/leetcode_1_two-sum"


@pytest.fixture(scope="module")
def server():
    from scripted_server import start_scripted_server

    policy = EffiBenchModels()
    with start_scripted_server(policy, models=MODELS) as running:
        running.policy = policy
        yield running


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, server):
    root = tmp_path_factory.mktemp("workspace")
    tables = [
        f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{server.base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
        for m in MODELS
    ]
    # Routed runs: `wrong` generates, then `wrong` and `fixer` debug, and refine, in this order.
    pipeline = f'[pipeline]\nmodels = ["{WRONG}", "{FIXER}"]\ngenerators = 1\ndebuggers = 2\ndebug_rounds = 1\n'
    (root / "perforch.toml").write_text("\n".join([*tables, pipeline + "refiners = 2\n"]))
    write_fixtures(root / "effibench")
    return root


def _perforch(workspace, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERFORCH_TEST_KEY": "sk-test", "PERFORCH_DATA_DIR": str(workspace / "data")}
    env["PERFORCH_CONFIG_DIR"] = str(workspace / "user-config")
    command = [sys.executable, "-m", "perforch.cli", *args]
    return subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=600)


def _eval(workspace, languages: str, *how: str) -> dict:
    args = ["eval", "--benchmark", str(workspace / "effibench"), "--languages", languages, *how, "--json"]
    run = _perforch(workspace, *args)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_the_canonical_answer_passes_every_test_and_is_scored_against_the_canonical_run(workspace, server):
    store = workspace / "canonical.results.jsonl"
    report = _eval(workspace, "python,go", "--single-model", CANONICAL, "--results", str(store))
    assert report["benchmark"] == "effibench-x" and report["paper"] == {"pass@1": 0.9583}
    assert report["pass@1"] == 1.0
    for language in ("python", "go"):
        scores = report["languages"][language]
        assert (scores["total"], scores["solved"], scores["pass@1"]) == (2, 2, 1.0), scores["unsolved"]
        assert 0.0 < scores["efficiency"] <= 1.0 and scores["efficiency_problems"] == 2
        assert scores["tokens_per_stage"]["generate"] > 0 and scores["tokens_per_stage"]["categorize"] > 0
    # What a generator is shown: the statement, the starter code and the first 3 tests, never the 4th.
    yokohama_tests = json.loads((workspace / "effibench" / "aizu_1444_yokohama-phenomena.json").read_text())
    fourth = json.loads(yokohama_tests["generated_tests"])[3]["input"]
    shown = [user for model, system, user in server.policy.prompts if "Yokohama" in user]
    assert shown and all("Example 3" in user and "Example 4" not in user and fourth not in user for user in shown)
    assert any("Complete this code:\nclass Solution:" in user for _, _, user in server.policy.prompts)

    # The store is the report: read back without running anything, and a resume runs nothing.
    asked = len(server.requests)
    again = _perforch(workspace, "eval", "--from-results", str(store), "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["languages"] == report["languages"]
    resumed = _eval(
        workspace, "python,go", "--single-model", CANONICAL, "--results", str(store), "--resume"
    )  # fmt: skip
    assert resumed["languages"] == report["languages"] and len(server.requests) == asked
    text = _perforch(workspace, "eval", "--from-results", str(store))
    assert "pass@1 overall: 100.00% (paper: 95.83%)" in text.stdout and "tokens per stage: categorize" in text.stdout


def test_a_wrong_generator_is_repaired_by_a_debugger_shown_the_visible_failure(workspace, server):
    server.policy.prompts.clear()
    python = _eval(workspace, "python", "--profile", "default")["languages"]["python"]
    assert (python["total"], python["solved"]) == (2, 2), python["unsolved"]
    assert python["tokens_per_stage"]["debug"] > 0
    debug = [(model, user) for model, system, user in server.policy.prompts if "debugger" in system]
    assert [model for model, _ in debug].count(FIXER) == 2  # `wrong` debugged each draft first, and failed
    for _, user in debug:
        assert "of 3: wrong output" in user  # a failure on one of the 3 visible tests, no other
    # `fixer` refines the repaired draft by dropping its waste: kept, as measured on the visible tests.
    assert python["improved"] == 2 and python["median_speedup"] > 1.1
    refine = [user for model, system, user in server.policy.prompts if model == FIXER and "performance" in system]
    assert refine and all("ms of CPU time in all" in user for user in refine)
    assert python["efficiency"] > 0.0


def test_a_program_that_knows_only_the_shown_examples_fails_the_scoring(workspace):
    python = _eval(workspace, "python", "--single-model", OVERFIT)["languages"]["python"]
    assert (python["total"], python["solved"], python["efficiency"]) == (2, 0, 0.0)
    assert set(python["unsolved"]) == {f"{YOKOHAMA_ID}/python", f"{TWO_SUM_ID}/python"}
    assert all("wrong output" in detail for detail in python["unsolved"].values())


def test_units_leave_out_a_functional_problem_in_a_language_the_data_has_no_runner_for(tmp_path):
    record = two_sum_record()
    del record["test_runners"]["rust"]  # as in the real data, which has no Rust at all
    (tmp_path / "leetcode_1_two-sum.json").write_text(json.dumps(record))
    write_fixtures(tmp_path / "both")
    problems = load_effibench(tmp_path)[:1] + load_effibench(tmp_path / "both")[:1]  # Two Sum, then Yokohama
    units, left_out = effibench_units(problems, ["python", "rust"])
    assert [u.task_id for u in units] == [f"{TWO_SUM_ID}/python", f"{YOKOHAMA_ID}/python", f"{YOKOHAMA_ID}/rust"]
    why = "the data has no rust runner for this functional problem (test_runners.rust)"
    assert left_out == {f"{TWO_SUM_ID}/rust": why}
    assert units[2].reference_language == "cpp"  # no Rust solution in the data: timed against C++'s
    assert "Write a complete program that reads standard input" in units[2].task().statement
