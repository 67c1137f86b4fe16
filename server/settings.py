"""The server's settings, merged as esbonio does: initializationOptions, then the client's
`workspace/configuration` section "perforch" over them. Models and the pipeline come from perforch.toml,
read by the engine, with the `models` and `pipeline` settings (tables shaped like the file's) laid over it.
A bad value is reported and replaced by its default: a setting never stops the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from perforch.orchestration.checks import Invalid, boolean, positive_int, string
from perforch.orchestration.config import Config, ConfigError, Overrides, load_config
from perforch.orchestration.workspace import config_root

SECTION = "perforch"
LOG_LEVELS = ("error", "warning", "info", "debug")


@dataclass(frozen=True)
class Settings:
    config_file: str = ""  # a perforch.toml to use instead of the workspace's
    profile: str = ""  # ranking profile (name or TOML file) instead of [pipeline] profile
    log_level: str = "info"  # what reaches window/logMessage
    max_jobs: int = 4  # generate/optimize jobs running at once; each builds and tests in a sandbox
    apply_prompt: bool = True  # ask "Apply?" when a job finishes: for clients with no preview UI of their own
    models: dict = field(default_factory=dict)  # alias -> a [models.alias] table, over perforch.toml's
    pipeline: dict = field(default_factory=dict)  # a [pipeline] table, over perforch.toml's


def _log_level(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in LOG_LEVELS:
        raise Invalid(f"one of {', '.join(LOG_LEVELS)}")
    return value.lower()


def _table(value: Any) -> dict:
    """Only the shape: the engine checks the keys, and names them, when it loads the config."""
    if not isinstance(value, Mapping):
        raise Invalid("an object")
    return dict(value)


# The client's camelCase name -> (Settings field, check)
_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "configFile": ("config_file", string),
    "profile": ("profile", string),
    "logLevel": ("log_level", _log_level),
    "maxJobs": ("max_jobs", positive_int),
    "applyPrompt": ("apply_prompt", boolean),
    "models": ("models", _table),
    "pipeline": ("pipeline", _table),
}
assert {name for name, _ in _KEYS.values()} == {f.name for f in fields(Settings)}


def merged(*layers: Any) -> dict[str, Any]:
    """The layers' keys, later layers winning; layers that are not objects (null, a list) add nothing."""
    result: dict[str, Any] = {}
    for layer in layers:
        if isinstance(layer, Mapping):
            result.update(layer)
    return result


def parse_settings(raw: Mapping[str, Any]) -> tuple[Settings, list[str]]:
    """Settings from the client's object, and one problem message per value that was replaced by its default.

    Values are never echoed in a message: a misplaced API key must not end up in a log."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    defaults = Settings()
    for key, value in raw.items():
        if key not in _KEYS:
            problems.append(f"{SECTION}.{key}: unknown setting; known: {', '.join(_KEYS)}")
            continue
        name, check = _KEYS[key]
        try:
            values[name] = check(value)
        except Invalid as exc:
            default = getattr(defaults, name)
            problems.append(f"{SECTION}.{key}: expected {exc}, got a {_kind(value)}; using {default!r}")
    return Settings(**values), problems


def _kind(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "object"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def engine_config(settings: Settings, file: Path | None, root: Path | None) -> Config:
    """The engine's config for a file (or, without one, for the root folder): the configFile setting,
    relative to the root folder, else the perforch.toml nearest above the file; the models and pipeline
    settings over it, their relative paths from the root folder, as configFile's.

    Raises ConfigError, which names the file (or "editor settings"), the key and what was expected."""
    explicit = Path(settings.config_file).expanduser() if settings.config_file else None
    if explicit is not None and not explicit.is_absolute() and root is not None:
        explicit = root / explicit
    workspace = config_root(file) if file is not None else root
    tables = {"models": settings.models, "pipeline": settings.pipeline}
    overrides = Overrides({name: table for name, table in tables.items() if table}, base=root)
    return load_config(workspace, explicit, overrides)


def checked_engine_config(settings: Settings, file: Path | None, root: Path | None) -> tuple[Config, list[str]]:
    """The engine's config, or the defaults and the reason when perforch.toml cannot be used."""
    try:
        return engine_config(settings, file, root), []
    except ConfigError as exc:
        return Config(), [f"{exc}; using the defaults until it is fixed"]
