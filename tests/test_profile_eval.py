"""`perforch profile` and `perforch eval` through the real CLI, against scripted models with complementary
strengths (see humaneval_models.py) and the real toolchains, on a small HumanEvalPack sample.
benchmarks/complementary.py runs the same on the full set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from humaneval_models import BENCHMARK, FIXER, WRITER_JCR, WRITER_PG, HumanEvalModels
from perforch.orchestration.rankings.profiles import load_profile

LIMIT = "5"
MODELS = (WRITER_PG, WRITER_JCR, FIXER)


def write_config(path, base_url: str) -> None:
    tables = [
        f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
        for m in MODELS
    ]
    pipeline = (
        "[pipeline]\nmodels = " + json.dumps(list(MODELS)) + "\ngenerators = 3\ndebuggers = 2\ndebug_rounds = 1\n"
        "refiners = 1\nrefine_runs = 2\ntest_timeout = 30.0\n"
    )
    path.write_text("\n".join([*tables, pipeline]))


def perforch(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERFORCH_TEST_KEY": "sk-test", "PERFORCH_DATA_DIR": str(cwd / "data")}
    env["PERFORCH_CONFIG_DIR"] = str(cwd / "user-config")
    command = [sys.executable, "-m", "perforch.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from scripted_server import start_scripted_server

    root = tmp_path_factory.mktemp("complementary")
    with start_scripted_server(HumanEvalModels()) as server:
        write_config(root / "perforch.toml", server.base_url)
        yield root


@pytest.fixture(scope="module")
def profile(workspace):
    out = workspace / "profile.toml"
    run = perforch(
        "profile",
        "--benchmark",
        str(BENCHMARK),
        "--models",
        ",".join(MODELS),
        "--limit",
        LIMIT,
        "--out",
        str(out),
        cwd=workspace,
    )
    assert run.returncode == 0, run.stderr
    return out


@pytest.mark.slow
def test_profile_ranks_each_model_where_it_is_strong(profile):
    matrix = load_profile(profile)
    for language in ("python", "go"):
        assert matrix.ranked("generate", language)[0] == WRITER_PG
    for language in ("java", "cpp", "rust"):
        assert matrix.ranked("generate", language)[0] == WRITER_JCR
    for language in ("python", "java", "cpp", "go", "rust"):
        assert matrix.ranked("debug", language)[0] == FIXER
    assert matrix.provenance.benchmark == "humanevalpack"
    assert "perforch profile" in matrix.provenance.command


@pytest.mark.slow
def test_routed_eval_beats_every_single_model(workspace, profile):
    routed = _eval(workspace, "--profile", str(profile))
    for language, score in routed["languages"].items():
        assert score["pass@1"] >= 0.99, (language, score)
    assert "hidden tests" in routed["note"]
    assert routed["tokens"] > 0
    by_stage = [score["tokens_per_stage"] for score in routed["languages"].values()]
    assert sum(sum(stages.values()) for stages in by_stage) == routed["tokens"]
    assert all(stages.get("generate", 0) > 0 for stages in by_stage), by_stage
    for model in MODELS:
        single = _eval(workspace, "--single-model", model)
        solved = sum(s["solved"] for s in single["languages"].values())
        total = sum(s["total"] for s in single["languages"].values())
        print(f"single model {model}: {solved}/{total}")
        assert solved / total < 0.60, model


def _eval(workspace, *how: str) -> dict:
    run = perforch("eval", "--benchmark", str(BENCHMARK), *how, "--limit", LIMIT, "--json", cwd=workspace)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
