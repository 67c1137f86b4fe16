"""Resumable `perforch profile` and `perforch eval`: a results store written as problems finish, `--resume`
after a real kill, `--from-results`, and the progress people see (a bar on a terminal, plain lines otherwise).

Through the real CLI, against the scripted models of humaneval_models.py (each answer a little late, so a run
is still going when it is killed) and the real Python toolchain."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest
from humaneval_models import BENCHMARK, HumanEvalModels
from perforch.orchestration.rankings.profiles import load_profile
from perforch.orchestration.results import ResultsStore
from scripted_server import Reply, start_scripted_server
from test_profile_eval import MODELS, perforch, write_config

LIMIT = 4
SAMPLE = ["--benchmark", str(BENCHMARK), "--languages", "python", "--limit", str(LIMIT)]
PROFILE = ["profile", *SAMPLE, "--models", ",".join(MODELS), "--jobs", "1"]


@pytest.fixture(scope="module")
def server():
    models = HumanEvalModels()
    with start_scripted_server(lambda model, messages: Reply(models(model, messages), delay=0.1)) as server:
        yield server


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, server):
    root = tmp_path_factory.mktemp("resume")
    write_config(root / "perforch.toml", server.base_url)
    return root


def _env(cwd) -> dict:
    return {
        **os.environ,
        "PERFORCH_TEST_KEY": "sk-test",
        "PERFORCH_DATA_DIR": str(cwd / "data"),
        "PERFORCH_CONFIG_DIR": str(cwd / "user-config"),
    }


def _categorize_requests(server) -> int:
    return sum("classify" in r.messages[0]["content"] for r in server.requests)


@pytest.fixture(scope="module")
def whole(workspace, server):
    """The profile of an uninterrupted run (its store is whole.results.jsonl)."""
    out = workspace / "whole.toml"
    run = perforch(*PROFILE, "--out", str(out), cwd=workspace)
    assert run.returncode == 0, run.stderr
    return out


@pytest.mark.slow
def test_a_killed_profile_resumes_to_the_profile_of_an_uninterrupted_run(workspace, server, whole):
    resumed, store_path = workspace / "resumed.toml", workspace / "resumed.results.jsonl"
    command = [sys.executable, "-m", "perforch.cli", *PROFILE, "--out", str(resumed)]
    killed = subprocess.Popen(command, cwd=workspace, env=_env(workspace), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (store_path.exists() and len(ResultsStore.read(store_path).records) >= 2):
        assert killed.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    finished_before = set(ResultsStore.read(store_path).records)
    assert 2 <= len(finished_before) < LIMIT
    assert not resumed.exists()

    server.clear()
    run = perforch(*PROFILE, "--out", str(resumed), "--resume", cwd=workspace)
    assert run.returncode == 0, run.stderr
    assert f"{len(finished_before)}/{LIMIT} problems already in the results store" in run.stderr
    # Only the problems the killed run had not finished were asked about again, one request per model.
    assert _categorize_requests(server) == len(MODELS) * (LIMIT - len(finished_before))

    assert load_profile(resumed).cells == load_profile(whole).cells
    store = ResultsStore.read(store_path)
    assert len(store.records) == LIMIT and len(set(store.producer.values())) == 2
    notes = load_profile(resumed).provenance.notes
    assert len([n for n in notes if n.startswith("results: ")]) == 2, notes

    again = perforch(
        "profile", "--from-results", str(store_path), "--out", str(workspace / "again.toml"), cwd=workspace
    )
    assert again.returncode == 0, again.stderr
    assert load_profile(workspace / "again.toml").cells == load_profile(whole).cells


def test_a_resume_with_other_models_is_refused(workspace, whole):
    assert (workspace / "whole.results.jsonl").exists()  # beside --out
    run = perforch("profile", *SAMPLE, "--models", MODELS[0], "--out", str(whole), "--resume", cwd=workspace)
    assert run.returncode == 2
    assert "results store holds a profile of writer-pg, writer-jcr, fixer" in run.stderr
    assert "--resume" in run.stderr


def test_eval_resumes_and_reads_back_its_results_with_plain_progress_and_no_unclosed_sessions(workspace, server):
    store = workspace / "eval.results.jsonl"
    command = ["eval", *SAMPLE, "--single-model", MODELS[0], "--results", str(store), "--json"]
    # ResourceWarnings shown: a session or transport left open at exit would print one.
    env = {**_env(workspace), "PYTHONWARNINGS": "default::ResourceWarning"}
    run = subprocess.run(
        [sys.executable, "-m", "perforch.cli", *command], cwd=workspace, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["languages"]["python"]["total"] == LIMIT
    lines = [line for line in run.stderr.splitlines() if line.startswith("eval: ")]
    assert len(lines) == LIMIT, run.stderr
    assert lines[-1].startswith(f"eval: {LIMIT}/{LIMIT} problems, ") and "ETA" in lines[0] and "tokens" in lines[0]
    assert "nclosed" not in run.stderr, run.stderr

    server.clear()
    resumed = perforch(*command, "--resume", cwd=workspace)
    assert resumed.returncode == 0, resumed.stderr
    assert server.requests == []  # every problem came from the store
    assert json.loads(resumed.stdout) == report

    again = perforch("eval", "--from-results", str(store), "--json", cwd=workspace)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == report


def test_a_terminal_gets_a_progress_bar_with_an_eta(workspace):
    command = [sys.executable, "-m", "perforch.cli", "eval", *SAMPLE[:-1], "2", "--single-model", MODELS[0]]
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, cwd=workspace, env=_env(workspace), stdout=follower, stderr=follower)
    os.close(follower)
    output = _read_all(leader, process)
    assert process.returncode == 0, output
    assert "\r" in output  # redrawn in place
    assert "eval: 100%|" in output and "2/2 problems" in output, output
    assert "ETA" in output and "tokens, $0.0000" in output
    assert "eval (single model writer-pg (" in output  # the report follows the bar


def _read_all(fd: int, process: subprocess.Popen) -> str:
    chunks = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the pty closes when the process ends
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")
