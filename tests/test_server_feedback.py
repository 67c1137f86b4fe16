"""What the language server tells an editor about a job and its setup, over a real LSP connection (pytest-lsp,
`perforch serve`): the cause of a failure with what to act on, the trace in the log, the cost that is unknown
as "unpriced", the route a job on a file would take (from the perforch.toml nearest the file), a broken
perforch.toml as a diagnostic at its line, and a code lens above each stub. Models are the scripted server."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from test_server import EXAMPLE, EXAMPLES, KEY, _execute, _line_of, _open, _test_client, _until

SERVER = [sys.executable, "-m", "perforch.cli", "serve"]
FILE = "textstats/core.py"
WRONG = "def count_vowels(text: str) -> int:\n    return undefined_helper(text)\n"


@pytest.fixture(autouse=True)
def model_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFORCH_TEST_KEY", KEY)
    monkeypatch.delenv("PERFORCH_ABSENT_KEY", raising=False)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=_test_client))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    """The VS Code extension's client: it takes structured progress and shows jobs' outcomes itself."""
    root = request.getfixturevalue("tmp_path")
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda ls, params: None)
    lsp_client.feature("perforch/progress")(lambda ls, params: None)
    capabilities = client_capabilities("visual-studio-code")
    capabilities.experimental = {"perforch": {"progress": True, "results": True}}
    params = types.InitializeParams(
        capabilities=capabilities,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="tmp")],
        initialization_options={"applyPrompt": False},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def _project(root: Path, name: str, toml: str) -> Path:
    project = root / name
    shutil.copytree(EXAMPLES / "python", project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    (project / "perforch.toml").write_text(toml)
    return project


def _toml(base_url: str, *aliases: str, key_env: str = "PERFORCH_TEST_KEY", **pipeline) -> str:
    models = "".join(
        f'[models.{alias}]\nmodel = "openai/{alias}"\napi_base = "{base_url}"\napi_key_env = "{key_env}"\n'
        for alias in aliases
    )
    settings = {"models": list(aliases), "refiners": 0, "debuggers": 0, "test_timeout": 120.0, **pipeline}
    return models + "[pipeline]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())


async def _generate(client: LanguageClient, file: Path) -> dict:
    uri = _open(client, file)
    return await _execute(client, "perforch.generate", uri, {"line": _line_of(file, "count_vowels"), "character": 0}, 1)


# -- failures name their cause ---------------------------------------------------------------------------


async def test_a_missing_key_is_refused_naming_the_variable_to_set(client, tmp_path):
    project = _project(tmp_path, "p", _toml("http://127.0.0.1:9/v1", "writer", key_env="PERFORCH_ABSENT_KEY"))
    result = await _generate(client, project / FILE)
    assert result["status"] == "refused", result
    cause = result["cause"]
    assert cause["kind"] == "missing_key" and cause["keys"] == ["PERFORCH_ABSENT_KEY"], cause
    assert "PERFORCH_ABSENT_KEY is not set" in cause["message"]
    assert client.messages == []  # the client said it shows outcomes itself: no second message


async def test_an_unreachable_model_server_is_the_cause_and_the_trace_is_logged(client, tmp_path):
    project = _project(tmp_path, "p", _toml("http://127.0.0.1:9/v1", "writer", model_timeout=10.0))
    result = await _generate(client, project / FILE)
    assert result["status"] == "done" and not result["passed"], result
    cause = result["cause"]
    assert cause["kind"] == "unreachable" and cause["model"] == "writer", cause
    assert cause["message"].startswith("writer: cannot reach http://127.0.0.1:9/v1"), cause
    assert (
        "no passing version" not in result["summary"]
        and "no model answered (writer: cannot reach" in (result["summary"])
    )
    assert result["seconds"] > 0 and all("seconds" in step and "tokens" in step for step in result["trace"])
    await _until(lambda: any("generate (writer) #1 unreachable" in m.message for m in client.log_messages))
    assert client.messages == []


@pytest.mark.slow
async def test_a_failing_candidate_is_the_cause_with_its_output_and_its_code(client, tmp_path, scripted_server):
    project = _project(tmp_path, "p", _toml(scripted_server.base_url, "writer"))
    scripted_server.set_policy(
        lambda model, messages: "string" if "classify" in messages[0]["content"] else f"```python\n{WRONG}```\n"
    )
    result = await _generate(client, project / FILE)
    assert result["status"] == "done" and not result["passed"], result
    cause = result["cause"]
    assert cause["kind"] == "test_failed" and cause["model"] == "writer", cause
    assert "undefined_helper" in cause["output"] and "undefined_helper(text)" in cause["candidate"], cause
    assert cause["message"].startswith("writer: test failed"), cause


@pytest.mark.slow
async def test_a_passing_generate_states_unpriced_cost_and_no_speed_up(client, tmp_path, scripted_server):
    project = _project(tmp_path, "p", _toml(scripted_server.base_url, "writer", refiners=1))
    right = EXAMPLE["python"][4]
    scripted_server.set_policy(
        lambda model, messages: "string" if "classify" in messages[0]["content"] else f"```python\n{right}```\n"
    )
    result = await _generate(client, project / FILE)
    assert result["status"] == "done" and result["passed"], result
    assert result["unpriced"] == ["writer"] and result["cause"] is None
    assert "cost unpriced" in result["summary"] and "$0.0000" not in result["summary"], result["summary"]
    assert result["speedup"] is None and "faster" not in result["summary"], result["summary"]  # same code
    status = await client.protocol.send_request_async("perforch/status", {})
    assert status["unpriced_calls"] >= 1


# -- routing: one truth ----------------------------------------------------------------------------------


async def test_routing_follows_the_perforch_toml_nearest_the_file(client, tmp_path):
    rust_first = _project(tmp_path, "one", _toml("http://127.0.0.1:9/v1", "alpha", "beta"))
    go_first = _project(tmp_path, "two", _toml("http://127.0.0.1:9/v1", "beta", "alpha"))
    absent = _project(tmp_path, "three", _toml("http://127.0.0.1:9/v1", "gamma", key_env="PERFORCH_ABSENT_KEY"))
    broken = _project(tmp_path, "four", "[pipeline\nmodels = 1\n")

    async def route(project: Path) -> dict:
        return await client.protocol.send_request_async("perforch/routing", {"uri": (project / FILE).as_uri()})

    one, two, three, four = [await route(p) for p in (rust_first, go_first, absent, broken)]
    assert (one["model"], two["model"]) == ("alpha", "beta"), (one, two)
    assert one["order"]["generate"] == ["alpha", "beta"] and one["config"] == str(rust_first / "perforch.toml")
    assert one["why"].startswith("alpha ") and one["problem"] == ""
    assert three["model"] == "" and three["problem_kind"] == "missing_key", three
    assert three["missing_keys"] == ["PERFORCH_ABSENT_KEY"]
    assert three["models"] == [
        {"alias": "gamma", "model": "openai/gamma", "key_env": "PERFORCH_ABSENT_KEY", "key_set": False}
    ]
    assert four["problem_kind"] == "config" and "perforch.toml:1: invalid TOML" in four["problem"], four
    with pytest.raises(Exception, match="params.uri is required"):
        await client.protocol.send_request_async("perforch/routing", {})


# -- perforch.toml problems ------------------------------------------------------------------------------


async def test_a_broken_perforch_toml_is_a_diagnostic_on_the_line_until_it_is_fixed(client, tmp_path):
    toml = tmp_path / "perforch.toml"
    toml.write_text('[models.w]\nmodel = "openai/w"\n\n[pipeline]\nmodels = ["w"]\ndebuggers = "two"\n')
    uri = _open(client, toml)
    await _until(lambda: uri in client.diagnostics)
    (problem,) = client.diagnostics[uri]
    assert problem.range.start.line == 5 and problem.source == "PerfOrch", problem
    assert problem.message.startswith("pipeline.debuggers: expected a non-negative integer"), problem.message

    toml.write_text('[models.w]\nmodel = "openai/w"\n\n[pipeline]\nmodels = ["w"]\ndebuggers = 2\n')
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri)))
    await _until(lambda: len(client.diagnostics[uri]) == 0)

    toml.write_text("[pipeline\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri)))
    await _until(lambda: len(client.diagnostics[uri]) == 1)
    assert client.diagnostics[uri][0].range.start.line == 0 and "invalid TOML" in client.diagnostics[uri][0].message


# -- code lens -------------------------------------------------------------------------------------------


async def test_a_code_lens_offers_generate_above_each_stub_only(client, tmp_path):
    file = tmp_path / "core.py"
    file.write_text("def stub(x):\n    pass\n\n\ndef done(x):\n    return x\n\n\ndef todo(x):\n    ...\n")
    uri = _open(client, file)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri))
    )
    assert [(lens.range.start.line, lens.command.title) for lens in lenses] == [
        (0, "Generate with PerfOrch"),
        (8, "Generate with PerfOrch"),
    ]
    assert lenses[0].command.command == "perforch.generate"
    assert list(lenses[0].command.arguments) == [uri, {"line": 0, "character": 0}, 1]
