"""Speed measured in-process on ENAMEL's inputs (issue 14), with the real sandbox and real Python: inputs made
and cached per seed, the Python harness and the checker, and eval/profile through the real CLI against
scripted models over real HTTP. No timing threshold here: the speed numbers are benchmarks/efficiency_*.py's."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys

import pytest
from enamel_models import ENAMEL, EXPERT, RENAMER, SLOWER, EnamelModels, enamel_rows, python_rows
from perforch.orchestration.efficiency.enamel import load_enamel
from perforch.orchestration.efficiency.harness import run_harness, run_versions
from perforch.orchestration.efficiency.inputs import HIDDEN_SEED, VISIBLE_SEED, cache_dir, performance_inputs
from perforch.orchestration.task import Limits, Outcome

# Problems where ENAMEL's expert solution is well over 2x faster than the canonical one at the top levels,
# and the canonical one still takes well under a second there (benchmarks/efficiency_canonical.py).
SAMPLE = (5, 10)
LIMITS = Limits(wall_seconds=60.0, memory_mb=2048)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cache")
    old = os.environ.get("PERFORCH_CACHE_DIR")
    os.environ["PERFORCH_CACHE_DIR"] = str(directory)
    yield directory
    if old is None:
        os.environ.pop("PERFORCH_CACHE_DIR")
    else:
        os.environ["PERFORCH_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def problem10():
    (problem,) = load_enamel(ENAMEL, [10])
    return problem


async def test_inputs_are_seeded_cached_and_differ_between_visible_and_hidden(cache, problem10):
    visible = await performance_inputs(problem10, ENAMEL, VISIBLE_SEED)
    assert [c.level for c in visible.cases] == [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4
    assert [c.size for c in visible.cases if c.level == 3] == [problem10.levels[3]] * 4
    assert all(isinstance(c.args, tuple) and isinstance(c.expected, str) for c in visible.cases)
    stored = sorted(p.name for p in cache_dir(VISIBLE_SEED).iterdir())
    assert stored == [f"10-{problem10.fingerprint()}.answers", f"10-{problem10.fingerprint()}.inputs"]
    again = await performance_inputs(problem10, ENAMEL, VISIBLE_SEED)  # from the cache
    assert again.cases == visible.cases
    hidden = await performance_inputs(problem10, ENAMEL, HIDDEN_SEED)
    assert [c.args for c in hidden.cases if c.level > 0] != [c.args for c in visible.cases if c.level > 0]


async def test_the_python_harness_times_every_call_and_the_checker_judges_the_results(cache, problem10):
    cases = (await performance_inputs(problem10, ENAMEL, VISIBLE_SEED)).cases
    right = await run_harness(
        "python", problem10, problem10.reference_source, "make_palindrome", cases, warmups=1, runs=3, limits=LIMITS
    )
    assert right.passed, right.detail
    assert [len(calls) for calls in right.call_ns] == [3] * len(cases)
    assert all(ns > 0 for calls in right.call_ns for ns in calls) and right.peak_rss_kb > 1000
    assert right.timing.median > 0

    wrong = problem10.prompt + "\n    return string + 'x'\n"
    rejected = await run_harness("python", problem10, wrong, "make_palindrome", cases, warmups=0, runs=1, limits=LIMITS)
    assert rejected.outcome is Outcome.TEST_FAILED and rejected.failed_case == 0
    assert "wrong result on a level-0 input" in rejected.detail
    assert rejected.timing.cases == ()  # a wrong version has nothing to compare

    raising = problem10.prompt + "\n    return string[len(string) + 5]\n"
    raised = await run_harness("python", problem10, raising, "make_palindrome", cases, warmups=0, runs=1, limits=LIMITS)
    assert raised.outcome is Outcome.TEST_FAILED and "IndexError" in raised.detail


async def test_a_candidate_that_overwrites_its_results_is_rejected_not_trusted(cache, problem10):
    cases = (await performance_inputs(problem10, ENAMEL, VISIBLE_SEED)).cases[:3]
    forger = (
        "import atexit, os\n"
        "garbage = b'l99999999999 ' + b'[' * 5000\n"
        "atexit.register(lambda: open(os.path.join(os.getcwd(), 'results0'), 'wb').write(garbage))\n"
        + problem10.reference_source
    )
    run = await run_harness("python", problem10, forger, "make_palindrome", cases, warmups=0, runs=1, limits=LIMITS)
    assert run.outcome is Outcome.TEST_FAILED and "results not accepted" in run.detail


async def test_a_run_past_its_deadline_is_cut_off_and_says_which_cases_finished(cache, problem10):
    cases = (await performance_inputs(problem10, ENAMEL, VISIBLE_SEED)).cases[:4]
    hangs = problem10.prompt + "\n    while len(string) > 3:\n        pass\n    return " + "string + string[::-1][1:]\n"
    run = await run_harness(
        "python", problem10, hangs, "make_palindrome", cases, warmups=0, runs=1, limits=Limits(wall_seconds=3.0)
    )
    assert run.outcome is Outcome.TIMEOUT and run.failed_case == len(run.call_ns) < len(cases)
    assert run.timing.cut_off_ns >= 3 * 10**9 and run.timing.cases == ()


async def test_versions_timed_together_take_turns_in_one_run(cache, problem10):
    cases = (await performance_inputs(problem10, ENAMEL, VISIBLE_SEED)).at_levels((1,), per_level=2)
    row = python_rows()["HumanEval/10"]
    canonical = row["prompt"] + row["canonical_solution"]
    first, second = await run_versions(
        "python",
        problem10,
        [problem10.reference_source, canonical],
        "make_palindrome",
        cases,
        warmups=1,
        runs=4,
        limits=LIMITS,
    )
    assert first.passed and second.passed
    assert first.timing.run_id == second.timing.run_id != ""
    assert [len(c) for c in first.call_ns] == [len(c) for c in second.call_ns] == [4, 4]


# -- eval and profile through the CLI ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_benchmark(tmp_path_factory):
    """A benchmark directory holding SAMPLE's rows of ENAMEL, next to the real HumanEvalPack."""
    root = tmp_path_factory.mktemp("bench")
    enamel = root / "enamel"
    enamel.mkdir()
    rows = [row for task, row in enamel_rows().items() if int(task.split("/")[1]) in SAMPLE]
    with gzip.open(enamel / "enamel.csv.gz", "wt", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (enamel / "datautils.py").symlink_to(ENAMEL / "datautils.py")
    (root / "humanevalpack").symlink_to(ENAMEL.parent / "humanevalpack")
    return enamel


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from scripted_server import start_scripted_server

    policy = EnamelModels()
    with start_scripted_server(policy, models=(EXPERT, RENAMER, SLOWER)) as running:
        running.policy = policy
        yield running


def _perforch(workspace, cache, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERFORCH_TEST_KEY": "sk-test", "PERFORCH_DATA_DIR": str(workspace / "data")}
    env["PERFORCH_CONFIG_DIR"], env["PERFORCH_CACHE_DIR"] = str(workspace / "user-config"), str(cache)
    command = [sys.executable, "-m", "perforch.cli", *args]
    return subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, server):
    root = tmp_path_factory.mktemp("workspace")
    tables = [
        f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{server.base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
        for m in (EXPERT, RENAMER, SLOWER)
    ]
    pipeline = '[pipeline]\nmodels = ["expert"]\ngenerators = 1\ndebuggers = 1\ndebug_rounds = 1\nrefiners = 1\n'
    (root / "perforch.toml").write_text("\n".join([*tables, pipeline]))
    return root


def _eval(workspace, cache, benchmark, model: str) -> dict:
    run = _perforch(
        workspace,
        cache,
        "eval",
        "--benchmark",
        str(benchmark),
        "--languages",
        "python",
        "--single-model",
        model,
        "--json",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)["languages"]["python"]


@pytest.mark.slow
def test_eval_keeps_the_expert_refinement_and_reports_its_measured_speed_up(workspace, cache, sample_benchmark, server):
    python = _eval(workspace, cache, sample_benchmark, EXPERT)
    print(json.dumps({k: v for k, v in python.items() if k != "problems"}, indent=1))
    assert python["total"] == len(SAMPLE) and python["solved"] == len(SAMPLE)
    assert python["improved"] == len(SAMPLE), python["problems"]
    assert all(p["speedup"] > 1.0 and p["vs_canonical"] > 1.0 for p in python["problems"])
    assert python["eff@1"] is not None and python["growth_before"] is not None
    assert python["tokens_per_stage"]["refine"] > 0
    told = server.policy.refine_prompts[-1]
    assert "ms on its slowest performance input (ENAMEL size" in told


@pytest.mark.slow
@pytest.mark.parametrize("model", [RENAMER, SLOWER])
def test_a_renamed_or_slower_refinement_is_never_kept(workspace, cache, sample_benchmark, model):
    python = _eval(workspace, cache, sample_benchmark, model)
    assert python["solved"] == len(SAMPLE)
    assert python["improved"] == 0, python["problems"]
    assert all(p["speedup"] in (None, 1.0) for p in python["problems"])  # the first version was kept


@pytest.mark.slow
def test_profile_fills_refine_cells_with_measured_improvement_rates(workspace, cache, sample_benchmark):
    from perforch.orchestration.rankings.profiles import load_profile

    out = workspace / "enamel-profile.toml"
    run = _perforch(
        workspace,
        cache,
        "profile",
        "--benchmark",
        str(sample_benchmark),
        "--languages",
        "python",
        "--models",
        f"{EXPERT},{RENAMER},{SLOWER}",
        "--out",
        str(out),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    ranking = {m.model: m for m in load_profile(out).cell("refine", "python")}
    assert ranking[EXPERT].rate == 1.0 and ranking[EXPERT].samples == len(SAMPLE)
    assert ranking[RENAMER].rate == 0.0 and ranking[SLOWER].rate == 0.0
