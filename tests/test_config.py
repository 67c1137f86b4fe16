"""perforch.toml: defaults, the merge of the user file and the workspace file, and every error form."""

from __future__ import annotations

from pathlib import Path

import pytest
from perforch.orchestration.config import (
    Config,
    ConfigError,
    Overrides,
    PipelineSettings,
    load_config,
    user_config_path,
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def write(directory: Path, text: str, name: str = "perforch.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(workspace: Path, text: str) -> str:
    write(workspace, text)
    with pytest.raises(ConfigError) as caught:
        load_config(workspace)
    return str(caught.value)


def test_defaults_without_any_file(workspace: Path) -> None:
    config = load_config(workspace)

    assert config == Config()
    assert config.pipeline.generators == 3 and config.pipeline.refine_threshold == 1.10
    assert config.pipeline.token_budget == 0 and config.sources == []
    gateway = config.gateway()
    assert gateway.timeout == 120.0 and gateway.token_budget is None and gateway.specs == {}


def test_user_file_lives_in_the_relocatable_config_dir(isolated_user_config: Path) -> None:
    assert user_config_path() == isolated_user_config / "perforch.toml"


def test_a_full_file(workspace: Path) -> None:
    write(
        workspace,
        """
        [models.fast]
        model = "openai/gpt-4o-mini"
        api_base = "http://127.0.0.1:8000/v1"
        api_key_env = "OPENAI_API_KEY"
        max_concurrency = 2
        temperature = 0.2
        extra_headers = { "X-Team" = "perf" }

        [models.deep]
        model = "anthropic/claude-3-5-sonnet-20241022"

        [pipeline]
        models = ["fast", "deep"]
        generators = 4
        debuggers = 0
        model_timeout = 30
        refine_threshold = 1.25
        token_budget = 50000
        """,
    )

    config = load_config(workspace)

    fast = config.models["fast"]
    assert (fast.alias, fast.model, fast.api_key_env, fast.max_concurrency) == (
        "fast",
        "openai/gpt-4o-mini",
        "OPENAI_API_KEY",
        2,
    )
    assert fast.params == {
        "api_base": "http://127.0.0.1:8000/v1",
        "temperature": 0.2,
        "extra_headers": {"X-Team": "perf"},
    }
    assert config.models["deep"].params == {} and config.models["deep"].max_concurrency == 4
    assert config.pipeline == PipelineSettings(
        models=("fast", "deep"),
        generators=4,
        debuggers=0,
        model_timeout=30.0,
        refine_threshold=1.25,
        token_budget=50000,
    )
    assert config.available_models() == ["fast", "deep"]
    gateway = config.gateway()
    assert gateway.specs == config.models and gateway.timeout == 30.0 and gateway.token_budget == 50000


def test_workspace_file_overrides_the_user_file_key_by_key(isolated_user_config: Path, workspace: Path) -> None:
    user = write(
        isolated_user_config,
        """
        [models.fast]
        model = "openai/gpt-4o-mini"
        api_key_env = "OPENAI_API_KEY"
        temperature = 0.0
        [models.mine]
        model = "openai/mine"
        [pipeline]
        generators = 5
        debuggers = 1
        """,
    )
    project = write(
        workspace,
        """
        [models.fast]
        api_base = "http://127.0.0.1:9000/v1"
        temperature = 0.7
        [pipeline]
        debuggers = 3
        """,
    )

    config = load_config(workspace)

    fast = config.models["fast"]
    assert fast.model == "openai/gpt-4o-mini" and fast.api_key_env == "OPENAI_API_KEY"
    assert fast.params == {"api_base": "http://127.0.0.1:9000/v1", "temperature": 0.7}
    assert set(config.models) == {"fast", "mine"}
    assert (config.pipeline.generators, config.pipeline.debuggers) == (5, 3)
    assert config.sources == [user, project]
    assert config.available_models() == ["fast", "mine"]  # no [pipeline] models: every alias


def test_explicit_file_replaces_the_workspace_file(tmp_path: Path, workspace: Path) -> None:
    write(workspace, "[pipeline]\ngenerators = 'broken'\n")
    explicit = write(tmp_path, "[pipeline]\ngenerators = 7\n", name="other.toml")

    config = load_config(workspace, explicit)

    assert config.pipeline.generators == 7 and config.sources == [explicit]


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: no such file"):
        load_config(None, tmp_path / "missing.toml")


def test_workspace_test_and_bench_commands(workspace: Path) -> None:
    assert load_config(workspace).tests.command is None

    write(workspace, "[tests]\ncommand = 'make check'\n[bench]\ncommand = 'python bench.py'\n")
    config = load_config(workspace)

    assert (config.tests.command, config.bench.command) == ("make check", "python bench.py")


def test_profile_path_is_relative_to_the_file_naming_it(workspace: Path) -> None:
    write(workspace, "[pipeline]\nprofile = 'profiles/mine.toml'\n")
    assert load_config(workspace).pipeline.profile == str(workspace / "profiles" / "mine.toml")

    write(workspace, "[pipeline]\nprofile = 'aggressive'\n")
    assert load_config(workspace).pipeline.profile == "aggressive"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pipeline]\ndebuggers = 'two'", "pipeline.debuggers: expected a non-negative integer, got 'two'"),
        ("[pipeline]\ngenerators = 0", "pipeline.generators: expected a positive integer, got 0"),
        ("[pipeline]\ngenerators = true", "pipeline.generators: expected a positive integer, got true"),
        ("[pipeline]\ngenerators = 2.5", "pipeline.generators: expected a positive integer, got 2.5"),
        ("[pipeline]\nmodel_timeout = -1", "pipeline.model_timeout: expected a positive number of seconds, got -1"),
        ("[pipeline]\nrefine_threshold = 0.9", "pipeline.refine_threshold: expected a number >= 1.0"),
        ("[pipeline]\nmodels = 'fast'", "pipeline.models: expected a list of model names, got 'fast'"),
        ("[pipeline]\nmodels = ['a', 3]", "pipeline.models: expected a list of model names, got a list ['a', 3]"),
        ("[pipeline]\nprofile = ''", "pipeline.profile: expected a non-empty string, got ''"),
        ("[pipeline]\ndebuger = 2", "pipeline.debuger: unknown key (did you mean 'debuggers'?)"),
        (
            "[pipelin]\ndebuggers = 2",
            "pipelin: unknown table; expected one of [models], [pipeline], [tests], [bench], [sandbox], [local] "
            "(did you",
        ),
        (
            "generators = 2",
            "generators: unknown key; expected one of [models], [pipeline], [tests], [bench], [sandbox], [local] "
            "(did you mean",
        ),
        ("pipeline = 3", "pipeline: expected a table [pipeline], got 3"),
        ("tests = 'make'", "tests: expected a table [tests], got 'make'"),
        ("[tests]\ncommand = ''", "tests.command: expected a non-empty string, got ''"),
        ("[bench]\ncommand = ['a']", "bench.command: expected a non-empty string, got a list ['a']"),
        ("[tests]\ncomand = 'make'", "tests.comand: unknown key (did you mean 'command'?); [tests] has `command`"),
        ("[sandbox]\nmode = 'off'", 'sandbox.mode: expected "bubblewrap" or "none", got \'off\''),
        ("[sandbox]\nmod = 'none'", "sandbox.mod: unknown key (did you mean 'mode'?); [sandbox] has `mode`"),
        ("[models]\nfast = 'gpt-4o'", "models.fast: expected a table [models.fast] with a `model` key, got 'gpt-4o'"),
        ("[models.fast]\ntemperature = 0", "models.fast: missing `model` (a litellm model id"),
        ("[models.fast]\nmodel = 3", "models.fast.model: expected a non-empty string, got 3"),
        ("[models.fast]\nmodel = 'x/y'\nmax_concurrency = 0", "models.fast.max_concurrency: expected a positive"),
        ("[models.fast]\nmodel = 'x/y'\napi_base = 'localhost:8000'", "models.fast.api_base: expected an http(s) URL"),
        ("[models.fast]\nmodel = 'x/y'\napi_key_env = 3", "models.fast.api_key_env: expected the name of an"),
        ("[models.fast]\nmodel = 'x/y'\ntimeout = 5", "models.fast.timeout: set by PerfOrch on every call"),
    ],
)
def test_errors_name_file_key_expected_and_got(workspace: Path, text: str, message: str) -> None:
    error = config_error(workspace, text)

    assert error.startswith(f"{workspace / 'perforch.toml'}: ")
    assert message in error


@pytest.mark.parametrize(
    "text",
    [
        "[models.fast]\nmodel = 'x/y'\napi_key = 'sk-live-0123456789'",
        "[models.fast]\nmodel = 'x/y'\napi_key_env = 'sk-live-0123456789'",
    ],
)
def test_a_key_written_into_the_file_is_refused_and_not_echoed(workspace: Path, text: str) -> None:
    error = config_error(workspace, text)

    assert "models.fast.api_key" in error and "environment variable" in error
    assert "sk-live" not in error


def test_toml_syntax_error_names_file_and_line(workspace: Path) -> None:
    error = config_error(workspace, "[pipeline]\ngenerators = 3\ndebuggers = = 2\n")

    assert error.startswith(f"{workspace / 'perforch.toml'}:3: invalid TOML: ")


def test_unreadable_file_is_named(workspace: Path) -> None:
    (workspace / "perforch.toml").write_bytes(b"\xff\xfe[pipeline]")

    with pytest.raises(ConfigError, match="perforch.toml: cannot read"):
        load_config(workspace)


def test_error_names_the_file_that_set_the_bad_value(isolated_user_config: Path, workspace: Path) -> None:
    user = write(isolated_user_config, "[pipeline]\nrefiners = -1\n")
    write(workspace, "[pipeline]\ngenerators = 2\n")

    with pytest.raises(ConfigError) as caught:
        load_config(workspace)

    assert str(caught.value).startswith(f"{user}: pipeline.refiners: expected a non-negative integer, got -1")


def test_overrides_lie_over_the_files_key_by_key(tmp_path: Path, workspace: Path) -> None:
    project = write(workspace, "[models.fast]\nmodel = 'openai/gpt-4o-mini'\n[pipeline]\ngenerators = 2\ndebuggers = 3")
    editor = {
        "models": {"fast": {"temperature": 0.5}, "mine": {"model": "openai/mine", "api_key_env": "MINE_KEY"}},
        "pipeline": {"generators": 5, "models": ["mine"], "profile": "profiles/mine.toml"},
    }

    config = load_config(workspace, None, Overrides(editor))

    assert config.models["fast"].model == "openai/gpt-4o-mini" and config.models["fast"].params == {"temperature": 0.5}
    assert config.models["mine"].api_key_env == "MINE_KEY"
    assert (config.pipeline.generators, config.pipeline.debuggers, config.pipeline.models) == (5, 3, ("mine",))
    assert config.pipeline.profile == str(workspace / "profiles" / "mine.toml")  # relative to the workspace
    assert config.sources == [project]  # the files read; the editor's settings are not one
    elsewhere = load_config(workspace, None, Overrides({"pipeline": {"profile": "p.toml"}}, base=tmp_path))
    assert elsewhere.pipeline.profile == str(tmp_path / "p.toml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pipeline": {"debug_rounds": "two"}}, "pipeline.debug_rounds: expected a non-negative integer, got 'two'"),
        ({"pipeline": {"debuger": 2}}, "pipeline.debuger: unknown key (did you mean 'debuggers'?)"),
        ({"models": {"fast": {"temperature": 0}}}, "models.fast: missing `model`"),
        ({"pipelin": {}}, "pipelin: unknown table"),
    ],
)
def test_errors_in_overrides_name_the_layer(workspace: Path, data: dict, message: str) -> None:
    write(workspace, "[pipeline]\ngenerators = 2\n")

    with pytest.raises(ConfigError) as caught:
        load_config(workspace, None, Overrides(data))

    assert str(caught.value).startswith(f"editor settings: {message}")


def test_a_key_in_the_overrides_is_refused_and_not_echoed(workspace: Path) -> None:
    editor = {"models": {"fast": {"model": "x/y", "api_key": "sk-live-0123456789"}}}

    with pytest.raises(ConfigError) as caught:
        load_config(workspace, None, Overrides(editor, name="VS Code settings"))

    error = str(caught.value)
    assert error.startswith("VS Code settings: models.fast.api_key: ") and "environment variable" in error
    assert "sk-live" not in error
