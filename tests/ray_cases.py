"""`perforch profile --ray` on a real Ray cluster: a head and one worker node, one CPU each, on this machine.

Run by test_profile_ray.py inside a network namespace that has only loopback (so Ray, which otherwise binds
the machine's interface address, uses 127.0.0.1 and sends nothing off the machine), and a PID namespace (so
every Ray process ends with it). Not collected on its own: it has no `test_` prefix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from humaneval_models import BENCHMARK, HumanEvalModels
from perforch.orchestration.rankings.profiles import load_profile
from perforch.orchestration.results import ResultsStore
from scripted_server import Reply, start_scripted_server
from test_profile_eval import MODELS

LIMIT = 4
ADDRESS = "127.0.0.1:6379"
PROFILE = ["profile", "--benchmark", str(BENCHMARK), "--languages", "python", "--limit", str(LIMIT)]
PROFILE += ["--models", ",".join(MODELS), "--jobs", "4"]


@pytest.fixture(scope="module")
def server():
    models = HumanEvalModels()
    with start_scripted_server(lambda model, messages: Reply(models(model, messages), delay=0.2)) as server:
        yield server


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, server):
    root = tmp_path_factory.mktemp("ray")
    (root / "perforch.toml").write_text(_config(server.base_url, "PERFORCH_TEST_KEY"))
    return root


def _config(base_url: str, key_variable: str) -> str:
    tables = [
        f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{base_url}"\napi_key_env = "{key_variable}"\n'
        "max_concurrency = 1\n"
        for m in MODELS
    ]
    return "\n".join([*tables, "[pipeline]\nmodel_timeout = 10.0\ntest_timeout = 30.0\n"])


def _env(root: Path) -> dict:
    return {
        **os.environ,
        "PERFORCH_TEST_KEY": "sk-test",
        "PERFORCH_DATA_DIR": str(root / "data"),
        "PERFORCH_CONFIG_DIR": str(root / "user-config"),
        "RAY_ADDRESS": ADDRESS,
        "RAY_USAGE_STATS_ENABLED": "0",
    }


@pytest.fixture(scope="module")
def cluster(workspace):
    ray_cli = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    common = ["--block", "--num-cpus", "1", "--disable-usage-stats"]
    head = [ray_cli, "start", "--head", "--port", "6379", "--temp-dir", temp, "--include-dashboard=false", *common]
    env = _env(workspace)
    started = [subprocess.Popen(head, env=env, start_new_session=True, stdout=subprocess.DEVNULL)]
    started.append(
        subprocess.Popen(
            [ray_cli, "start", "--address", ADDRESS, *common],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
    )
    import ray

    try:
        _wait_for_nodes(ray, 2)
        yield
    finally:  # SIGKILL: on SIGTERM Ray drains for 30 s; the PID namespace ends whatever is left anyway
        for process in started:
            os.killpg(process.pid, signal.SIGKILL)
        for process in started:
            process.wait(timeout=60)


def _wait_for_nodes(ray, count: int) -> None:
    deadline = time.monotonic() + 300
    ray.init(address=ADDRESS, log_to_driver=False, logging_level="ERROR")
    try:
        while len([n for n in ray.nodes() if n["Alive"]]) < count:
            assert time.monotonic() < deadline, "the Ray worker node never joined"
            time.sleep(1)
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}  # loopback only
    finally:
        ray.shutdown()


def _perforch(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "perforch.cli", *args]
    return subprocess.run(command, cwd=root, env=env or _env(root), capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def local_profile(workspace, server):
    out = workspace / "local.toml"
    run = _perforch(workspace, *PROFILE, "--out", str(out))
    assert run.returncode == 0, run.stderr
    return load_profile(out)


def test_a_ray_profile_is_the_local_profile_and_keeps_each_models_limit(workspace, server, cluster, local_profile):
    server.clear()
    out = workspace / "ray.toml"
    run = _perforch(workspace, *PROFILE, "--out", str(out), "--ray", "auto")
    assert run.returncode == 0, run.stderr
    assert load_profile(out).cells == local_profile.cells
    limits = server.max_concurrent_by_model
    assert set(limits) == set(MODELS) and max(limits.values()) == 1, limits  # max_concurrency = 1, cluster-wide
    nodes = {record["node"] for record in ResultsStore.read(workspace / "ray.results.jsonl").records.values()}
    assert len(nodes) == 2  # both nodes profiled problems


def test_a_ray_eval_reports_what_a_local_eval_reports(workspace, server, cluster):
    evaluate = ["eval", *PROFILE[1:7], "--single-model", MODELS[0], "--json"]
    local = _perforch(workspace, *evaluate)
    assert local.returncode == 0, local.stderr
    server.clear()
    store = workspace / "eval.results.jsonl"
    on_ray = _perforch(workspace, *evaluate, "--ray", "auto", "--results", str(store))
    assert on_ray.returncode == 0, on_ray.stderr
    assert json.loads(on_ray.stdout) == json.loads(local.stdout)
    assert max(server.max_concurrent_by_model.values()) == 1
    assert all(record["node"] for record in ResultsStore.read(store).records.values())


def test_a_killed_ray_worker_loses_no_problem(workspace, server, cluster, local_profile):
    out, store = workspace / "killed.toml", workspace / "killed.results.jsonl"
    command = [sys.executable, "-m", "perforch.cli", *PROFILE, "--out", str(out), "--ray", "auto"]
    run = subprocess.Popen(command, cwd=workspace, env=_env(workspace), stderr=subprocess.PIPE, text=True)
    server.clear()
    deadline = time.monotonic() + 600
    while len(server.requests) < 2 * len(MODELS):  # both runners are in the middle of problems
        assert run.poll() is None, run.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not (store.exists() and ResultsStore.read(store).records)
    runners = _runner_pids()
    assert runners, "no ProfileRunner worker process found"
    os.kill(runners[0], signal.SIGKILL)
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert len(ResultsStore.read(store).records) == LIMIT
    assert load_profile(out).cells == local_profile.cells


def _runner_pids() -> list[int]:
    listing = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True).stdout
    return [int(line.split()[0]) for line in listing.splitlines() if "ray::ProfileRunner" in line]


def test_a_node_without_a_models_key_is_named(workspace, server, cluster):
    config = workspace / "driver-only-key.toml"
    config.write_text(_config(server.base_url, "PERFORCH_DRIVER_ONLY_KEY"))
    env = {**_env(workspace), "PERFORCH_DRIVER_ONLY_KEY": "sk-test"}  # the nodes were started without it
    run = _perforch(workspace, *PROFILE, "--config", str(config), "--ray", "auto", env=env)
    assert run.returncode == 2
    assert run.stderr.count("Ray node 127.0.0.1 (") == 2, run.stderr
    assert "PERFORCH_DRIVER_ONLY_KEY is not set (a model's API key)" in run.stderr
    assert "pip install 'perforch[ray]'" in run.stderr
