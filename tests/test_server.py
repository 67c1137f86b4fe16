"""The language server end to end: a pytest-lsp client over stdio starts `perforch serve`; models are the
scripted server on 127.0.0.1; jobs run on copies of the example workspaces, whose own test command judges
the applied result."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from perforch.orchestration.languages import LANGUAGES
from perforch.orchestration.redaction import redact
from perforch.orchestration.workspace.shadow import shadow_home
from perforch.server.edits import replacement
from perforch.server.proposals import MAX_PROPOSALS, ProposalStore, Stored
from process_watch import live_processes_with, wait_until_gone
from pygls.protocol import JsonRPCResponseMessage, default_converter
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features
from scripted_server import Reply, ScriptedServer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVER = [sys.executable, "-m", "perforch.cli", "serve"]
KEY = "sk-perforch-test-0123456789abcdef"  # the models' API key: it must never reach the client

# language: (file, stub, finished function, the workspace's own test command, a right count_vowels)
EXAMPLE = {
    "python": (
        "textstats/core.py",
        "count_vowels",
        "has_duplicates",
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        'def count_vowels(text: str) -> int:\n    return sum(1 for ch in text.lower() if ch in "aeiou")\n',
    ),
    "rust": (
        "src/lib.rs",
        "count_vowels",
        "has_duplicates",
        ["cargo", "test", "--offline", "-q"],
        "pub fn count_vowels(text: &str) -> usize {\n"
        '    text.chars().filter(|c| "aeiouAEIOU".contains(*c)).count()\n}\n',
    ),
}


@pytest.fixture(autouse=True)
def model_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the server starts: it inherits the environment, isolated user config dir included."""
    monkeypatch.setenv("PERFORCH_TEST_KEY", KEY)


def _converter():
    # lsprotocol reads every code action that carries a command as a bare Command (its union hook only
    # asks whether a "command" key exists); tell them apart as clients do, by the type of "command".
    converter = default_converter()

    def command_or_action(value: dict, _: type) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(value.get("command"), str) else types.CodeAction
        return converter.structure(value, kind)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007
    # Results of custom requests stay JSON (pygls would make namedtuples of them, renaming odd keys).
    converter.register_structure_hook(JsonRPCResponseMessage, lambda value, kind: kind(**value))
    return converter


def _test_client() -> LanguageClient:
    client = LanguageClient(converter_factory=_converter)
    register_lsp_features(client)
    return client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=_test_client))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    """A VS Code-like client rooted in the test's tmp_path; it applies edits to the files on disk."""
    root = request.getfixturevalue("tmp_path")
    lsp_client.applied = []
    lsp_client.registered = []
    lsp_client.feature(types.WORKSPACE_APPLY_EDIT)(_apply_on_disk)
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda ls, params: ls.registered.extend(params.registrations))
    lsp_client.progress_fields = []  # perforch/progress: the engine's events as fields
    lsp_client.feature("perforch/progress")(lambda ls, params: ls.progress_fields.append(params._asdict()))
    capabilities = client_capabilities("visual-studio-code")
    capabilities.experimental = {"perforch": {"progress": True}}  # as the VS Code extension declares
    params = types.InitializeParams(
        capabilities=capabilities,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="tmp")],
        initialization_options={"applyPrompt": False, "logLevel": "debug"},
    )
    lsp_client.server_capabilities = (await lsp_client.initialize_session(params)).capabilities
    yield
    await lsp_client.shutdown_session()


def _apply_on_disk(client: LanguageClient, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
    """What an editor does with workspace/applyEdit, then saving the file."""
    client.applied.append(params)
    for change in params.edit.document_changes or []:
        path = Path(to_fs_path(change.text_document.uri))
        text = path.read_text()
        for edit in sorted(change.edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            text = text[: _offset(text, edit.range.start)] + edit.new_text + text[_offset(text, edit.range.end) :]
        path.write_text(text)
    return types.ApplyWorkspaceEditResult(applied=True)


def _offset(text: str, position: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: position.line]) + position.character


# -- workspaces ------------------------------------------------------------------------------------------


def _workspace(root: Path, language: str, server: ScriptedServer, answer: str | Reply, **pipeline) -> Path:
    """A copy of the example with a perforch.toml whose one model, `writer`, is the scripted server."""
    workspace = _example(root, language, server, answer)
    settings = {"models": ["writer"], "refiners": 0, "test_timeout": 120.0, **pipeline}
    (workspace / "perforch.toml").write_text(
        f'[models.writer]\nmodel = "openai/writer"\napi_base = "{server.base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
        "[pipeline]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    )
    return workspace


def _example(root: Path, language: str, server: ScriptedServer, answer: str | Reply) -> Path:
    """A copy of the example, without a perforch.toml; every model the scripted server plays writes `answer`."""
    workspace = root / language
    shutil.copytree(EXAMPLES / language, workspace, ignore=shutil.ignore_patterns("target", "build", "__pycache__"))

    def policy(model: str, messages: list[dict]) -> str | Reply:
        if "classify" in messages[0]["content"]:
            return "string"
        return answer if isinstance(answer, Reply) else f"Sure.\n```{language}\n{answer}```\n"

    server.set_policy(policy)
    return workspace


def _open(client: LanguageClient, file: Path, version: int = 1) -> str:
    uri = file.as_uri()
    language = {".py": "python", ".rs": "rust"}.get(file.suffix, "plaintext")
    document = types.TextDocumentItem(uri=uri, language_id=language, version=version, text=file.read_text())
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))
    return uri


def _line_of(file: Path, name: str) -> int:
    """The 0-based line of the function's definition."""
    return next(i for i, line in enumerate(file.read_text().splitlines()) if f" {name}(" in line)


async def _actions(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    position = types.Position(line=line, character=4)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=position, end=position),
        context=types.CodeActionContext(diagnostics=[]),
    )
    return await client.text_document_code_action_async(params) or []


async def _run(client: LanguageClient, action: types.CodeAction) -> dict:
    command = action.command
    params = types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    return await client.workspace_execute_command_async(params)


async def _execute(client: LanguageClient, command: str, *arguments) -> dict:
    params = types.ExecuteCommandParams(command=command, arguments=list(arguments))
    return await client.workspace_execute_command_async(params)


# -- code actions ----------------------------------------------------------------------------------------


async def test_code_actions_offer_generate_on_stubs_and_optimize_on_finished_functions(client, tmp_path):
    file = tmp_path / "core.py"
    file.write_text(
        '"""A module."""\n\nimport math\n\n\n'
        "def stub(x: int) -> int:\n    raise NotImplementedError\n\n\n"
        "def done(x: int) -> int:\n    return math.isqrt(x)\n\n\n"
        "def todo(x: int) -> int:\n    ...\n"
    )
    uri = _open(client, file)
    titles = {line: [a.title for a in await _actions(client, uri, line)] for line in range(15)}
    assert titles[5] == titles[6] == titles[13] == titles[14] == ["Generate with PerfOrch"]
    assert titles[9] == titles[10] == ["Optimize with PerfOrch"]
    assert all(titles[line] == [] for line in (0, 1, 2, 3, 4, 7, 8, 11, 12))

    (action,) = await _actions(client, uri, 5)
    assert action.command.command == "perforch.generate"
    assert list(action.command.arguments) == [uri, {"line": 5, "character": 0}, 1]
    assert (await _actions(client, tmp_path.joinpath("notes.txt").as_uri(), 0)) == []


async def test_code_actions_follow_the_document_as_it_is_edited(client, tmp_path):
    file = tmp_path / "core.py"
    file.write_text("def f(x):\n    return x\n")
    uri = _open(client, file)
    assert [a.title for a in await _actions(client, uri, 0)] == ["Optimize with PerfOrch"]
    _change(client, uri, 2, "def f(x):\n    pass\n")
    assert [a.title for a in await _actions(client, uri, 0)] == ["Generate with PerfOrch"]


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


# -- generate and apply ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("language", ["python", "rust"])
async def test_generate_returns_an_edit_that_makes_the_workspace_tests_pass(
    client, tmp_path, scripted_server, language
):
    relative, stub, _, own_tests, answer = EXAMPLE[language]
    workspace = _workspace(tmp_path, language, scripted_server, answer)
    file = workspace / relative
    before = file.read_text()
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    assert action.title == "Generate with PerfOrch"

    result = await _run(client, action)
    assert result["status"] == "done" and result["passed"], result
    assert result["models"]["generate"] == "writer"
    assert result["tests"]["run"] and result["tests"]["run"] == result["tests"]["passed"]
    assert result["tokens"] > 0 and result["edit"] is not None and result["id"]
    assert file.read_text() == before  # nothing is written until the user applies

    (token,) = [t for t in client.progress_reports if str(t).startswith("perforch-")]
    kinds = [report.kind for report in client.progress_reports[token]]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    messages = [report.message for report in client.progress_reports[token] if report.kind == "report"]
    assert any(message.startswith("generate (writer) ") for message in messages), messages

    applied = await _execute(client, "perforch.apply", result["id"])
    assert applied["status"] == "applied", applied
    edit = client.applied[-1].edit
    assert edit.change_annotations and edit.change_annotations["perforch"].needs_confirmation  # a preview first
    own = subprocess.run(own_tests, cwd=workspace, capture_output=True, text=True, timeout=900)
    assert own.returncode == 0, own.stdout + own.stderr

    status = await client.protocol.send_request_async("perforch/status", {})
    assert status["jobs"] == [] and status["proposals"] == []
    assert status["tokens"] == result["tokens"]
    assert all(KEY not in message.message for message in client.log_messages + client.messages)


@pytest.mark.slow
async def test_a_stale_proposal_is_refused(client, tmp_path, scripted_server):
    relative, stub, _, _, answer = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, answer) / relative
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    result = await _run(client, action)
    assert result["status"] == "done" and result["id"], result

    edited = file.read_text().replace("Small text", "Tiny text")
    _change(client, uri, 2, edited)
    refused = await _execute(client, "perforch.apply", result["id"], True)
    assert refused["status"] == "refused" and "changed since" in refused["message"], refused
    assert client.applied == []
    assert any("changed since" in message.message for message in client.messages)
    assert file.read_text() != edited  # the editor's unsaved edit was not overwritten on disk either


@pytest.mark.slow
async def test_progress_goes_to_the_token_the_client_sent(client, tmp_path, scripted_server):
    relative, stub, _, _, answer = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, answer) / relative
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    assert client.server_capabilities.execute_command_provider.work_done_progress  # the server takes tokens

    token = "vscode-progress-1"
    client.progress_reports[token] = []  # the client made this token itself
    command = action.command
    params = types.ExecuteCommandParams(command=command.command, arguments=command.arguments, work_done_token=token)
    result = await client.workspace_execute_command_async(params)
    assert result["status"] == "done" and result["passed"], result

    assert list(client.progress_reports) == [token]  # no window/workDoneProgress/create (it would add a token)
    reports = client.progress_reports[token]
    assert reports[0].kind == "begin" and reports[0].cancellable and reports[0].title == f"PerfOrch: generate {stub}"
    assert reports[-1].kind == "end" and reports[-1].message == "done"
    messages = [report.message for report in reports if report.kind == "report"]
    assert any(message.startswith("generate (writer) ") for message in messages), messages
    # The same events as fields, on the same token, each with the message the report carried
    fields = client.progress_fields
    assert fields[0]["status"] == "starting" and fields[0]["function"] == stub, fields
    assert all(f["token"] == token and f["job"] == result["job"] and f["kind"] == "generate" for f in fields)
    assert [f["message"] for f in fields[1:]] == messages
    started = next(f for f in fields if f["stage"] == "generate")
    assert (started["model"], started["attempt"], started["status"]) == ("writer", 1, "started"), started


@pytest.mark.slow
async def test_discard_forgets_a_proposal_and_leaves_the_file_alone(client, tmp_path, scripted_server):
    relative, stub, _, _, answer = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, answer) / relative
    before = file.read_text()
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    result = await _run(client, action)
    assert result["status"] == "done" and result["id"], result

    assert await _execute(client, "perforch.discard", result["id"]) == {"status": "discarded", "id": result["id"]}
    again = await _execute(client, "perforch.discard", result["id"])
    assert again["status"] == "refused" and "no proposal" in again["message"], again
    assert (await _execute(client, "perforch.apply", result["id"]))["status"] == "refused"
    assert (await client.protocol.send_request_async("perforch/status", {}))["proposals"] == []
    assert client.applied == [] and file.read_text() == before


@pytest.mark.slow
async def test_apply_prompt_applies_directly_when_the_user_says_so(client, tmp_path, scripted_server):
    relative, stub, _, own_tests, answer = EXAMPLE["python"]
    workspace = _workspace(tmp_path, "python", scripted_server, answer)
    file = workspace / relative
    prompts: list[types.ShowMessageRequestParams] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def answer_apply(ls, params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        prompts.append(params)
        return types.MessageActionItem(title="Apply")

    client.set_configuration({"perforch": {"applyPrompt": True}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    result = await _run(client, action)
    assert result["status"] == "done" and result["id"], result
    await _until(lambda: client.applied, 10)
    (prompt,) = prompts
    assert prompt.message.startswith(f"PerfOrch generate `{stub}`: tests ") and " passed, " in prompt.message
    assert [action.title for action in prompt.actions] == ["Apply", "Discard"]
    assert not client.applied[0].edit.change_annotations  # direct: the prompt was the confirmation
    assert subprocess.run(own_tests, cwd=workspace, capture_output=True, timeout=300).returncode == 0


# -- cancellation and failures ---------------------------------------------------------------------------


@pytest.mark.slow
async def test_cancel_request_closes_the_model_request(client, tmp_path, scripted_server):
    relative, stub, _, _, _ = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, Reply("too late", delay=60)) / relative
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    params = types.ExecuteCommandParams(command=action.command.command, arguments=action.command.arguments)
    reply = asyncio.ensure_future(
        client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="the-job")
    )
    asked = lambda rs: any(r.model == "writer" and "classify" not in r.messages[0]["content"] for r in rs)  # noqa: E731
    assert await asyncio.to_thread(scripted_server.wait_for, asked, 120)
    status = await client.protocol.send_request_async("perforch/status", {})
    assert [job["function"] for job in status["jobs"]] == [stub]

    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="the-job"))
    with pytest.raises(Exception, match="(?i)cancel"):
        await reply
    ended = lambda rs: all(r.finished is not None for r in rs)  # noqa: E731
    assert await asyncio.to_thread(scripted_server.wait_for, ended, 10)
    assert scripted_server.requests[-1].disconnected  # the server saw the client hang up: nothing answered
    assert await _no_jobs(client)
    assert wait_until_gone(str(shadow_home(file.parents[1])), 5) == []


@pytest.mark.slow
async def test_cancel_from_the_progress_kills_the_sandboxed_tests(client, tmp_path, scripted_server):
    relative, stub, _, _, _ = EXAMPLE["python"]
    endless = "def count_vowels(text: str) -> int:\n    while True:\n        pass\n"
    workspace = _workspace(tmp_path, "python", scripted_server, endless)
    file = workspace / relative
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    reply = asyncio.ensure_future(_run(client, action))
    answered = lambda rs: len(rs) >= 2 and all(r.finished for r in rs)  # noqa: E731
    assert await asyncio.to_thread(scripted_server.wait_for, answered, 120)
    marker = str(shadow_home(workspace))
    await _until(lambda: live_processes_with(marker), 30)  # the candidate's tests are running

    (token,) = [t for t in client.progress_reports if str(t).startswith("perforch-")]
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    assert (await reply)["status"] == "cancelled"
    assert client.progress_reports[token][-1].kind == "end"
    assert wait_until_gone(marker, 5) == []
    assert await _no_jobs(client)


@pytest.mark.slow
async def test_cancel_on_the_clients_token_ends_the_job(client, tmp_path, scripted_server):
    relative, stub, _, _, _ = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, Reply("too late", delay=60)) / relative
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    token = "vscode-progress-2"
    client.progress_reports[token] = []
    command = action.command
    params = types.ExecuteCommandParams(command=command.command, arguments=command.arguments, work_done_token=token)
    reply = asyncio.ensure_future(client.workspace_execute_command_async(params))
    asked = lambda rs: any(r.model == "writer" for r in rs)  # noqa: E731
    assert await asyncio.to_thread(scripted_server.wait_for, asked, 120)

    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    assert (await reply)["status"] == "cancelled"
    last = client.progress_reports[token][-1]
    assert last.kind == "end" and last.message == "cancelled"
    assert await _no_jobs(client)


async def _no_jobs(client: LanguageClient) -> bool:
    for _ in range(100):
        if (await client.protocol.send_request_async("perforch/status", {}))["jobs"] == []:
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.slow
async def test_two_jobs_run_at_once_and_each_is_cancelled_alone(client, tmp_path, scripted_server):
    relative, stub, finished, _, _ = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, Reply("slow", delay=60), refiners=1) / relative
    uri = _open(client, file)
    (generate,) = await _actions(client, uri, _line_of(file, stub))
    (optimize,) = await _actions(client, uri, _line_of(file, finished))
    first = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command=generate.command.command, arguments=generate.command.arguments),
            msg_id="first",
        )
    )
    second = asyncio.ensure_future(_run(client, optimize))
    both = lambda rs: len([r for r in rs if r.model == "writer"]) == 2  # noqa: E731
    assert await asyncio.to_thread(scripted_server.wait_for, both, 120)
    status = await client.protocol.send_request_async("perforch/status", {})
    assert sorted(job["function"] for job in status["jobs"]) == sorted([stub, finished])

    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="first"))
    with pytest.raises(Exception, match="cancel"):
        await first
    status = await client.protocol.send_request_async("perforch/status", {})
    assert [job["function"] for job in status["jobs"]] == [finished]
    (token,) = [t for t, reports in client.progress_reports.items() if reports[-1].kind != "end"]
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    assert (await second)["status"] == "cancelled"


@pytest.mark.slow
async def test_an_exception_in_a_job_is_a_message_and_a_log_entry_and_the_server_keeps_serving(
    client, tmp_path, scripted_server
):
    relative, stub, _, _, answer = EXAMPLE["python"]
    file = _workspace(tmp_path, "python", scripted_server, answer, profile="missing-profile.toml") / relative
    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    # A PerfOrchError (here the configured profile is missing) is the user's to fix: a warning naming the file.
    result = await _run(client, action)
    assert result["status"] == "refused" and "missing-profile.toml: profile file not found" in result["message"]
    assert any(m.type == types.MessageType.Warning and "missing-profile" in m.message for m in client.messages)
    # Anything else is an error (here a profile file that is not text, which nothing in the engine expects).
    (tmp_path / "python" / "missing-profile.toml").write_bytes(b"\xff\xfe\x00 not text")
    result = await _run(client, action)
    assert result["status"] == "error" and "UnicodeDecodeError" in result["message"], result
    assert any(m.type == types.MessageType.Error and "UnicodeDecodeError" in m.message for m in client.messages)
    # The log names the exception in one line; its traceback stays in the server's own log (stderr).
    logged = [m.message for m in client.log_messages]
    assert any(text.startswith("PerfOrch generate failed: ") and "UnicodeDecodeError" in text for text in logged)
    assert not any("Traceback" in text for text in logged)
    assert [a.title for a in await _actions(client, uri, _line_of(file, stub))] == ["Generate with PerfOrch"]


async def test_refusals_are_messages(client, tmp_path):
    file = tmp_path / "core.py"
    file.write_text("x = 1\n\n\ndef f(x):\n    return x\n")
    uri = _open(client, file)
    where = {"line": 0, "character": 0}
    nothing = await _execute(client, "perforch.generate", uri, where, 1)
    assert nothing["status"] == "refused" and "no function" in nothing["message"]
    finished = await _execute(client, "perforch.generate", uri, {"line": 3, "character": 0}, 1)
    assert finished["status"] == "refused" and "already has a body" in finished["message"]
    stale = await _execute(client, "perforch.optimize", uri, {"line": 3, "character": 0}, 7)
    assert stale["status"] == "refused" and "changed since" in stale["message"]
    missing = await _execute(client, "perforch.apply", "p99")
    assert missing["status"] == "refused"
    assert len([m for m in client.messages if m.type == types.MessageType.Warning]) == 4


# -- settings --------------------------------------------------------------------------------------------


async def test_a_broken_setting_is_a_message_and_a_default(client, tmp_path):
    await _until(lambda: client.registered)
    assert [r.method for r in client.registered] == ["workspace/didChangeConfiguration"]  # to hear of changes
    client.set_configuration({"perforch": {"maxJobs": "many", "logLevel": "loud", "apiKey": KEY}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await _messages(client, 3)
    shown = [m.message for m in client.messages]
    assert any("maxJobs: expected a positive integer" in m and "using 4" in m for m in shown), shown
    assert any("logLevel" in m for m in shown) and any("apiKey: unknown setting" in m for m in shown)
    assert all(KEY not in m for m in shown)

    (tmp_path / "perforch.toml").write_text("[pipeline]\ndebuggers = 'two'\n")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await _messages(client, 4)
    assert len(client.messages) == 4  # the settings still broken are not shown again
    assert "pipeline.debuggers: expected a non-negative integer" in client.messages[-1].message

    file = tmp_path / "core.py"
    file.write_text("def f(x):\n    pass\n")
    assert [a.title for a in await _actions(client, _open(client, file), 0)] == ["Generate with PerfOrch"]
    status = await client.protocol.send_request_async("perforch/status", {})
    assert status == {"jobs": [], "proposals": [], "tokens": 0, "cost_usd": 0.0, "unpriced_calls": 0, "cost": "$0.0000"}


@pytest.mark.slow
async def test_models_and_pipeline_settings_reach_the_engine(client, tmp_path, scripted_server):
    relative, stub, _, _, answer = EXAMPLE["python"]
    file = _example(tmp_path, "python", scripted_server, answer) / relative  # no perforch.toml: no model at all
    editor = {"model": "openai/editor", "api_base": scripted_server.base_url, "api_key_env": "PERFORCH_TEST_KEY"}
    pipeline = {"models": ["editor"], "refiners": 0, "test_timeout": 120.0}
    client.set_configuration({"perforch": {"models": {"editor": editor}, "pipeline": pipeline}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await _your_generators(client, ["editor"])  # the settings are in force (rankings read them too)

    uri = _open(client, file)
    (action,) = await _actions(client, uri, _line_of(file, stub))
    result = await _run(client, action)
    assert result["status"] == "done" and result["passed"], result
    assert result["models"]["generate"] == "editor" and "refine" not in result["models"]
    assert {request.model for request in scripted_server.requests} == {"editor"}
    assert client.messages == []


async def _your_generators(client: LanguageClient, expected: list[str]) -> None:
    for _ in range(200):
        rankings = await client.protocol.send_request_async("perforch/rankings", {"language": "python"})
        (row,) = [cell for cell in rankings["cells"] if cell["stage"] == "generate" and cell["category"] == "*"]
        if row.get("your_order") == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"your_order is {row.get('your_order')}, not {expected}")


async def test_a_broken_models_or_pipeline_setting_names_editor_settings_and_the_key(client, tmp_path):
    client.set_configuration({"perforch": {"models": ["writer"], "pipeline": {"debug_rounds": "two"}}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await _messages(client, 2)
    shown = [m.message for m in client.messages]
    assert any("perforch.models: expected an object, got a list; using {}" in m for m in shown), shown
    expected = "editor settings: pipeline.debug_rounds: expected a non-negative integer, got 'two'"
    assert any(expected in m and "using the defaults" in m for m in shown), shown

    file = tmp_path / "core.py"
    file.write_text("def f(x):\n    pass\n")
    refused = await _execute(client, "perforch.generate", _open(client, file), {"line": 0, "character": 0}, 1)
    assert refused["status"] == "refused" and expected in refused["message"], refused

    client.set_configuration({"perforch": {"models": {"fast": {"model": "openai/x", "api_key": KEY}}}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await _until(lambda: any("models.fast.api_key" in m.message for m in client.messages))
    assert any(m.message.startswith("PerfOrch: editor settings: models.fast.api_key: ") for m in client.messages)
    assert all(KEY not in m.message for m in client.messages + client.log_messages)
    assert (await client.protocol.send_request_async("perforch/status", {}))["jobs"] == []  # still serving


async def _messages(client: LanguageClient, count: int) -> None:
    await _until(lambda: len(client.messages) >= count)


async def _until(condition, seconds: float = 4.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition did not come true in time")


async def test_rankings_are_what_the_command_line_shows(client, tmp_path):
    rankings = await client.protocol.send_request_async("perforch/rankings", {"language": "rust"})
    assert rankings["cells"] and all(cell["language"] == "rust" for cell in rankings["cells"])
    cli = subprocess.run(
        [sys.executable, "-m", "perforch.cli", "rankings", "--language", "rust", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert rankings == json.loads(cli.stdout)
    with pytest.raises(Exception, match="unsupported language"):
        await client.protocol.send_request_async("perforch/rankings", {"language": "cobol"})


async def test_initialize_names_the_languages_the_structured_progress_and_the_offers(client):
    perforch = client.server_capabilities.experimental["perforch"]
    assert perforch == {
        "languages": list(LANGUAGES), "progress": "perforch/progress", "proposals": "perforch/proposal"
    }  # fmt: skip


def test_edits_replace_only_the_lines_that_differ():
    edit = replacement("a\nb\nc\n", "a\nB\nB2\nc\n")
    assert (edit.range.start.line, edit.range.end.line, edit.new_text) == (1, 2, "B\nB2\n")
    last = replacement("a\r\nb", "a\r\nbé")  # no final line break: up to the end of the last line
    assert (last.range.start.line, last.range.end.line, last.range.end.character) == (1, 1, 1)
    assert replacement("x = '😀'", "y", "utf-16").range.end.character == 8  # an emoji is 2 UTF-16 units
    assert replacement("x = '😀'", "y", "utf-32").range.end.character == 7


def test_logs_mask_api_keys(monkeypatch):
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", "abcd1234efgh5678")
    masked = redact("sent abcd1234efgh5678 and sk-proj-aaaaBBBBccccDDDD and Bearer xyzxyzxyzxyz1234 to the model")
    assert masked == "sent [redacted] and [redacted] and Bearer [redacted] to the model"


def test_importing_the_server_does_not_import_litellm():
    code = "import sys, perforch.server.app; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_serve_refuses_a_bad_tcp_address():
    run = subprocess.run([*SERVER, "--tcp", "localhost"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "HOST:PORT" in run.stderr


def test_the_oldest_proposals_are_forgotten_beyond_the_cap() -> None:
    proposals = ProposalStore()
    for number in range(MAX_PROPOSALS + 3):
        proposals.keep(Stored(f"p{number}", "file:///x.py", 1, proposal=None))
    assert len(proposals) == MAX_PROPOSALS
    assert next(iter(proposals)) == "p3" and f"p{MAX_PROPOSALS + 2}" in proposals
