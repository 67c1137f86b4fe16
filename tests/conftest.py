"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_server import ScriptedServer, start_scripted_server


@pytest.fixture(autouse=True)
def isolated_user_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user config dir at an empty directory: no test may read the developer's own file."""
    directory = tmp_path_factory.mktemp("user-config")
    monkeypatch.setenv("PERFORCH_CONFIG_DIR", str(directory))
    return directory


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user data dir (profiles, the outcome store) at an empty directory: runs in tests must not
    learn into, or route by, the developer's own outcomes."""
    directory = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("PERFORCH_DATA_DIR", str(directory))
    return directory


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (see tests/scripted_server.py).

    It answers "ok" until a test calls `.set_policy(...)`; `.base_url` ends in /v1.
    """
    with start_scripted_server() as server:
        yield server
