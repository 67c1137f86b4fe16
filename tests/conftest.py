"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session", autouse=True)
def empty_maven_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Maven's local repository starts empty for the session, as on a fresh machine: whatever PerfOrch's
    one-time resolution misses, an offline candidate run then misses too (a warm ~/.m2 would hide it).
    MAVEN_OPTS carries it to every mvn, PerfOrch's own included (Maven 3.8 reads no MAVEN_ARGS)."""
    directory = tmp_path_factory.mktemp("maven-repository")
    directory.chmod(0o755)  # as ~/.m2 is: the jail's throwaway uid reads it (pytest makes its dirs 0700)
    options = f"{os.environ.get('MAVEN_OPTS', '')} -Dmaven.repo.local={directory}".strip()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAVEN_OPTS", options)
        yield directory


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (see tests/scripted_server.py).

    It answers "ok" until a test calls `.set_policy(...)`; `.base_url` ends in /v1.
    """
    with start_scripted_server() as server:
        yield server
