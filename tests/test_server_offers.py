"""The first passing version offered before refinement ends, over a real LSP connection (pytest-lsp, `perforch
serve`), to a client that asks for offers as the VS Code extension does. The scripted models write a slow but
right count_vowels at once and hold its first refinement until the test lets it go, so the test acts while the
job is still refining: an accepted offer is refined further against the file as accepted, and each faster
version replaces the offer before it; a rejected offer ends the job."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from scripted_server import Reply, ScriptedServer
from test_server import (
    EXAMPLE,
    EXAMPLES,
    KEY,
    SERVER,
    _apply_on_disk,
    _execute,
    _line_of,
    _open,
    _test_client,
    _until,
)

FILE = "textstats/core.py"
SLOW = (  # right, and slow enough for any refinement to be measurably faster
    "def count_vowels(text: str) -> int:\n"
    "    total = 0\n"
    "    for _ in range(300):\n"
    '        total = sum(1 for ch in text.lower() if ch in "aeiou")\n'
    "    return total\n"
)
SOONER = SLOW.replace("range(300)", "range(20)")  # the first refinement
FAST = EXAMPLE["python"][4]  # the second
FAST_LINE = FAST.splitlines()[1]  # the file keeps the stub's docstring above it

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def model_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFORCH_TEST_KEY", KEY)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=_test_client))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    """A VS Code-like client that takes offers (perforch/proposal) and applies edits to the files on disk."""
    root = request.getfixturevalue("tmp_path")
    lsp_client.applied = []
    lsp_client.offers = []
    lsp_client.feature(types.WORKSPACE_APPLY_EDIT)(_apply_on_disk)
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda ls, params: None)
    lsp_client.progress = []
    lsp_client.feature("perforch/progress")(lambda ls, params: ls.progress.append(params.message))
    lsp_client.feature("perforch/proposal")(lambda ls, params: ls.offers.append(_plain(params)))
    capabilities = client_capabilities("visual-studio-code")
    capabilities.experimental = {"perforch": {"progress": True, "proposals": True, "results": True}}
    params = types.InitializeParams(
        capabilities=capabilities,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="tmp")],
        initialization_options={"applyPrompt": False},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def _plain(value: Any) -> Any:
    """A custom notification's params as JSON data (pygls gives nested named tuples)."""
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    """A custom notification's params as JSON data (pygls gives nested named tuples)."""
    if hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _refining(messages: list[dict], code: str) -> bool:
    content = str(messages[-1].get("content") or "")
    return "This implementation of `count_vowels`" in content and code in content


def _project(root: Path, server: ScriptedServer, release: threading.Event) -> Path:
    """python/ with two models: the first writes SLOW and, once `release` is set, refines it to SOONER; the
    second refines that to FAST."""
    project = root / "python"
    shutil.copytree(EXAMPLES / "python", project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    models = "".join(
        f'[models.{alias}]\nmodel = "openai/{alias}"\napi_base = "{server.base_url}"\n'
        'api_key_env = "PERFORCH_TEST_KEY"\n'
        for alias in ("writer", "polisher")
    )
    # Three timed runs: one run alone was once measured 0.68x for a 20x gain under load (a preempted call).
    settings = {"models": ["writer", "polisher"], "refiners": 2, "refine_runs": 3, "test_timeout": 120.0}
    pipeline = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    (project / "perforch.toml").write_text(f"{models}[pipeline]\n{pipeline}")

    def policy(model: str, messages: list[dict]) -> str | Reply:
        if "classify" in messages[0]["content"]:
            return "string"
        if _refining(messages, "range(300)"):
            return Reply(f"Faster:\n```python\n{SOONER}```\n", hold=release)
        if _refining(messages, "range(20)"):
            return f"Faster still:\n```python\n{FAST}```\n"
        return f"Sure.\n```python\n{SLOW}```\n"

    server.set_policy(policy)
    return project / FILE


async def _offered(client: LanguageClient, file: Path) -> tuple[asyncio.Task, dict]:
    """Start a generate on count_vowels; its first offer, which comes while the job is still running."""
    uri = _open(client, file)
    position = {"line": _line_of(file, "count_vowels"), "character": 0}
    job = asyncio.create_task(_execute(client, "perforch.generate", uri, position, 1))
    await _until(lambda: client.offers or job.done(), 120)
    assert client.offers, f"no offer before the job ended: {job.result()}"
    assert not job.done(), "the job must still be refining when its passing version is offered"
    return job, client.offers[0]


def _new_text(offer: dict) -> str:
    (change,) = offer["edit"]["documentChanges"]
    return "".join(edit["newText"] for edit in change["edits"])


async def test_the_passing_version_is_offered_at_once_and_refinement_goes_on_after_it_is_accepted(
    client, tmp_path, scripted_server
):
    release = threading.Event()
    file = _project(tmp_path, scripted_server, release)
    try:
        job, first = await _offered(client, file)
        assert first["refining"] is True and first["passed"] and first["version"] == 1, first
        assert "range(300)" in _new_text(first)
        accepted = await _execute(client, "perforch.apply", first["id"], True)
        assert accepted["applied"], accepted
        assert "range(300)" in file.read_text()
        # What VS Code does after an applied edit: the document's new text, at its next version.
        document = types.VersionedTextDocumentIdentifier(uri=file.as_uri(), version=2)
        change = types.TextDocumentContentChangeWholeDocument(text=file.read_text())
        client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))
        assert not job.done(), "accepting the passing version does not end the refinement"
        release.set()
        result = await job
    finally:
        release.set()
    sooner, fastest = client.offers[1:]
    # Each faster version is offered against the file as accepted, and replaces the one before it.
    assert sooner["version"] == fastest["version"] == 2 and sooner["speedup"] > 1.0, client.offers
    assert "range(20)" in _new_text(sooner) and "def count_vowels" not in _new_text(sooner)
    assert result["status"] == "done" and result["id"] == fastest["id"] and result["version"] == 2, result
    stale = await _execute(client, "perforch.apply", sooner["id"], True)
    assert stale["status"] == "refused", stale
    assert f"replaced by a faster version, {fastest['id']!r}" in stale["message"], stale
    applied = await _execute(client, "perforch.apply", result["id"], True)
    assert applied["applied"], applied
    assert FAST_LINE in file.read_text() and "for _ in range" not in file.read_text()
    # While it measured, the progress said what it timed, run by run.
    assert "refine measuring: timing the passing version, run 3 of 3" in client.progress, client.progress
    assert "refine (polisher) measuring: timing polisher's version, run 3 of 3" in client.progress


async def test_rejecting_the_offer_ends_the_job_and_its_model_request(client, tmp_path, scripted_server):
    release = threading.Event()
    file = _project(tmp_path, scripted_server, release)
    before = file.read_text()

    def refining(requests: list) -> list:
        return [r for r in requests if _refining(r.messages, "range(300)")]

    try:
        job, first = await _offered(client, file)
        assert await asyncio.to_thread(scripted_server.wait_for, refining, 120), "the refiner was never asked"
        discarded = await _execute(client, "perforch.discard", first["id"])
        assert discarded["status"] == "discarded", discarded
        result = await job
        ended = {"status": "cancelled", "job": first["job"], "offered": None, "accepted": False, "rejected": True}
        assert result == ended, result
        closed = await asyncio.to_thread(
            scripted_server.wait_for, lambda requests: all(r.disconnected for r in refining(requests))
        )
        assert closed, "the refiner's request was left open"
    finally:
        release.set()
    assert file.read_text() == before
