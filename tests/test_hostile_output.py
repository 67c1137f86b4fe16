"""A hostile model against a copy of examples/python: its answer, when tested, prints every key it can find (the
environment, the project's .env) in a failing assertion. Nothing of it may reach the next model's request, the
command line's output (text and --json), the language server's $/progress, job result and logs, or a file
PerfOrch writes. And a 20 MB answer is cut: the debug prompt that follows stays small."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features
from scripted_server import ScriptedServer

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "python"
FILE = "textstats/core.py"

# What the user has: provider keys in the environment (shaped and not), the models' own keys under names only
# the config says are keys, and a token in the project's .env that no variable holds (known by shape only).
ENVIRONMENT = {
    "OPENAI_API_KEY": "sk-proj-Hostile0penAIkey1234567890",
    "ANTHROPIC_API_KEY": "sk-ant-api03-HostileAnthropicKey0987",
    "GEMINI_API_KEY": "AIzaSyHostileGeminiKey0123456789abcdefg",
    "DEPLOY_PASSWORD": "correct-horse-battery-staple",
    "WRITER_CREDS": "zq81writer0own0key0042",  # api_key_env of `writer`
    "FIXER_CREDS": "yy77fixer0own0key0077",  # api_key_env of `fixer`
}
DOTENV_ONLY = "ghp_HostileDotenvToken0123456789abcdefghij"
SECRETS = [*ENVIRONMENT.values(), DOTENV_ONLY]

LEAK = """def count_vowels(text: str) -> int:
    import os
    from pathlib import Path

    found = [value for name, value in sorted(os.environ.items()) if name.endswith(("KEY", "PASSWORD", "CREDS"))]
    for parent in [Path.cwd(), *Path(__file__).resolve().parents]:
        if (parent / ".env").is_file():
            found.append((parent / ".env").read_text())
            break
    print("stolen:", found, os.environ)
    assert False, "stolen: " + " ".join(found) + " " + "x" * 50_000
"""


def _workspace(root: Path, server: ScriptedServer, policy) -> Path:
    workspace = root / "python"
    shutil.copytree(EXAMPLE, workspace, ignore=shutil.ignore_patterns("__pycache__"))
    (workspace / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in ENVIRONMENT.items()) + f"GITHUB_TOKEN={DOTENV_ONLY}\n"
    )
    tables = "".join(
        f'[models.{alias}]\nmodel = "openai/{alias}"\napi_base = "{server.base_url}"\napi_key_env = "{env}"\n'
        for alias, env in (("writer", "WRITER_CREDS"), ("fixer", "FIXER_CREDS"))
    )
    pipeline = (
        '[pipeline]\nmodels = ["writer", "fixer"]\ngenerators = 1\ndebuggers = 2\ndebug_rounds = 1\n'
        "refiners = 0\ntest_timeout = 120.0\n"
    )
    (workspace / "perforch.toml").write_text(tables + pipeline)

    def answer(model: str, messages: list[dict]) -> str:
        return "string" if "classify" in messages[0]["content"] else policy(model, messages)

    server.set_policy(answer)
    return workspace


def _leaking(model: str, messages: list[dict]) -> str:
    return f"Sure.\n```python\n{LEAK}```\n"


def _line(file: Path, name: str) -> int:
    return next(i for i, line in enumerate(file.read_text().splitlines(), 1) if f"def {name}(" in line)


def _perforch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perforch.cli", *args],
        cwd=cwd,
        env={**os.environ, **ENVIRONMENT},
        capture_output=True,
        text=True,
        timeout=900,
    )


def _leaked(text: str) -> list[str]:
    """The secrets in `text`, or any 12-character piece of one (a secret cut in two is a leak too)."""
    return [s for s in SECRETS if any(s[i : i + 12] in text for i in range(len(s) - 11))]


def _debug_prompts(server: ScriptedServer) -> list[str]:
    prompts = [r.messages[-1]["content"] for r in server.requests]
    return [prompt for prompt in prompts if "What went wrong" in prompt]


def _no_secret_in_requests(server: ScriptedServer) -> None:
    for request in server.requests:
        assert _leaked(json.dumps(request.body)) == [], request.body
        own = ENVIRONMENT["WRITER_CREDS" if request.model == "writer" else "FIXER_CREDS"]
        headers = json.dumps(request.headers).replace(own, "")  # each provider gets its own key, no other
        assert _leaked(headers) == [], request.headers


def _no_secret_in_files(*directories: Path) -> None:
    for directory in directories:
        for path in directory.rglob("*"):
            if path.is_file() and path.name != ".env":
                assert _leaked(path.read_text(errors="replace")) == [], path


@pytest.mark.slow
def test_keys_a_candidate_prints_reach_no_model_and_no_output(
    tmp_path, scripted_server, isolated_user_data, isolated_user_config
):
    workspace = _workspace(tmp_path, scripted_server, _leaking)
    file = workspace / FILE
    line = str(_line(file, "count_vowels"))

    as_json = _perforch("generate", str(file), "--line", line, "--json", cwd=workspace)
    as_text = _perforch("generate", str(file), "--line", line, cwd=workspace)

    assert as_json.returncode == 1, as_json.stdout + as_json.stderr
    report = json.loads(as_json.stdout)
    assert not report["passed"] and "stolen" in report["failure"] and "[redacted]" in report["failure"]
    assert len(report["failure"]) <= 4200  # a few KiB, not the 50 KB the candidate printed
    assert "no passing version found" in as_text.stdout and "[redacted]" in as_text.stdout
    # The leak did reach the point where it would have been sent on: the debuggers were asked, redacted.
    prompts = _debug_prompts(scripted_server)
    assert prompts and all("stolen" in p and "[redacted]" in p for p in prompts), prompts
    for output in (as_json.stdout, as_json.stderr, as_text.stdout, as_text.stderr):
        assert _leaked(output) == [], output
    _no_secret_in_requests(scripted_server)
    _no_secret_in_files(isolated_user_data, isolated_user_config)
    assert file.read_text() == (EXAMPLE / FILE).read_text()


@pytest.mark.slow
def test_a_20_mb_answer_is_cut_and_the_next_prompt_stays_small(tmp_path, scripted_server):
    huge = "def count_vowels(text: str) -> int:\n" + "    # padding\n" * 1_500_000 + "    return 0\n"

    def policy(model: str, messages: list[dict]) -> str:
        if "What went wrong" in messages[-1]["content"]:
            return "```python\ndef count_vowels(text: str) -> int:\n    return -1\n```\n"
        return f"```python\n{huge}```\n"

    workspace = _workspace(tmp_path, scripted_server, policy)
    file = workspace / FILE
    run = _perforch("generate", str(file), "--line", str(_line(file, "count_vowels")), "--json", cwd=workspace)

    assert run.returncode == 1, run.stdout + run.stderr
    assert len(huge) > 20_000_000
    prompts = _debug_prompts(scripted_server)
    assert prompts, [r.messages[-1]["content"][:200] for r in scripted_server.requests]
    source = (EXAMPLE / FILE).read_text()
    assert all(len(prompt) < len(source) + 25_000 for prompt in prompts), [len(p) for p in prompts]
    assert all("characters cut" in prompt for prompt in prompts)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(f"peak RSS of the largest child so far: {peak} MB")  # a number for the report, not a threshold


# -- the language server -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process's environment, before the language server starts: it inherits them."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def _client() -> LanguageClient:
    client = LanguageClient()
    register_lsp_features(client)
    client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda ls, params: None)
    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perforch.cli", "serve"], client_factory=_client)
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    root = request.getfixturevalue("tmp_path")
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="tmp")],
        initialization_options={"applyPrompt": False, "logLevel": "debug"},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.slow
async def test_keys_a_candidate_prints_reach_no_progress_result_or_log_of_the_server(
    client: LanguageClient, tmp_path, scripted_server
):
    workspace = _workspace(tmp_path, scripted_server, _leaking)
    file = workspace / FILE
    uri = file.as_uri()
    document = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=file.read_text())
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))
    token = "vscode-progress-hostile"
    client.progress_reports[token] = []
    position = {"line": _line(file, "count_vowels") - 1, "character": 0}
    params = types.ExecuteCommandParams(
        command="perforch.generate", arguments=[uri, position, 1], work_done_token=token
    )

    result = await client.workspace_execute_command_async(params)

    assert result["status"] == "done" and not result["passed"], result
    assert "[redacted]" in result["failure"], json.dumps(result)[:3000]
    progress = [getattr(report, "message", None) or "" for report in client.progress_reports[token]]
    assert any("test_failed" in message for message in progress), progress
    logs = [message.message for message in client.log_messages + client.messages]
    for text in [json.dumps(result), *progress, *logs]:
        assert _leaked(text) == [], text
    assert _debug_prompts(scripted_server)
    _no_secret_in_requests(scripted_server)
