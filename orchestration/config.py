"""perforch.toml: the user's file, then the workspace's (or --config) over it, validated into a Config.

```toml
[models.fast]                      # an alias
model = "openai/gpt-4o-mini"       # litellm id (required)
api_base = "http://127.0.0.1:8000/v1"
api_key_env = "OPENAI_API_KEY"     # the key stays in the environment, never in this file
max_concurrency = 4
temperature = 0.2                  # any other key is passed to litellm

[pipeline]
profile = "default"                # shipped profile name, or a ranking TOML (relative to this file)
models = ["fast"]                  # first where the ranking is silent; then the other [models.*] as written
generators = 3
debuggers = 2
debug_rounds = 2
refiners = 2
model_timeout = 120.0
test_timeout = 10.0
memory_mb = 1024
refine_threshold = 1.10            # keep a refinement only if >= 10% faster and beyond noise
refine_runs = 5
min_samples = 5                    # a profiled category cell's model counts from this many samples
fallback = "per-generator"         # or "breadth-first": every generator drafts before any debugger
refine = "ranked"                  # or "exhaustive": every model refines the same version, the fastest is kept
route = "quality"                  # or "cost" (cheapest expected cost to a pass), "balanced" (see ROUTES)
token_budget = 0                   # 0 = unlimited
max_cost_usd = 0.0                 # dollars one job may spend (eval/profile: the whole command); 0 = no cap
session_max_cost_usd = 0.0         # dollars a language server session may spend, all jobs; 0 = no cap
learn = true                       # record outcomes locally and let them move the rankings

[local]                            # the bundled local models (local/smollm2); per model too, in [models.x]
threads = 1
context_size = 4096
max_tokens = 768                   # new tokens per answer

[tests]                            # workspace mode; both tables are optional
command = "make check"             # run in the workspace root instead of the discovered tests

[bench]
command = "python bench.py"        # the workload `optimize` times instead of the tests'

[sandbox]                          # workspace mode's isolation of candidates
mode = "bubblewrap"                # the default; "none" runs them unconfined (your choice, never a fallback)
```

Tables merge key by key, so a workspace can change one setting of a model the user file defines. A caller
may lay one more layer of the same tables over the files (the editor's settings: `Overrides`).
Every error names the file (or layer), the dotted key, and what was expected against what was found.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from .checks import Invalid, boolean, count, names, number, one_of, positive_int, text
from .errors import PerfOrchError
from .local_models import is_local
from .local_server import SETTING_KEYS, ServerSettings
from .models import CostCap, ModelGateway, ModelSpec, UsageLedger
from .task import Limits

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILE = "perforch.toml"
CONFIG_DIR_ENV = "PERFORCH_CONFIG_DIR"


class ConfigError(PerfOrchError):
    """A configuration file (or option) PerfOrch cannot use; the message says where and why."""


# When generate and debug move to the next model. "breadth-first": every generator drafts, then the debuggers
# work on the draft closest to passing; "per-generator" (the paper's): each generator's draft goes to every
# debugger before the next generator is asked.
FALLBACKS = ("breadth-first", "per-generator")
# "ranked": down the ranking, `refiners` models, each refining the fastest version so far; "exhaustive": every
# model the user has refines the same passing version, and the fastest correct one is kept (the paper's baseline).
REFINE_MODES = ("ranked", "exhaustive")
# How a stage orders its models (rankings/router.py): "quality" by score; "cost" by expected dollars to a passing
# result (cost per attempt / chance to pass); "balanced": the models close to the best chance, cheapest first.
ROUTES = ("quality", "cost", "balanced")


@dataclass(frozen=True)
class PipelineSettings:
    profile: str = "default"
    models: tuple[str, ...] = ()
    generators: int = 3
    debuggers: int = 2
    debug_rounds: int = 2
    refiners: int = 2
    model_timeout: float = 120.0
    test_timeout: float = 10.0
    memory_mb: int = 1024
    refine_threshold: float = 1.10
    refine_runs: int = 5
    min_samples: int = 5  # a category cell's entry with fewer samples leaves the model to the language row
    fallback: str = "per-generator"  # see FALLBACKS; chosen by benchmarks/complementary.py (README)
    refine: str = "ranked"  # see REFINE_MODES
    route: str = "quality"  # see ROUTES
    token_budget: int = 0
    max_cost_usd: float = 0.0  # a job's dollar cap (0: none); checked before each call (models.CostCap)
    session_max_cost_usd: float = 0.0  # the language server session's cap over all its jobs (0: none)
    learn: bool = True  # record each run's outcomes in the local store and blend them into the rankings


@dataclass(frozen=True)
class CommandSettings:
    """[tests] or [bench]: a shell command run in the workspace root, or None to use discovery."""

    command: str | None = None


SANDBOX_MODES = ("bubblewrap", "none")


@dataclass(frozen=True)
class SandboxSettings:
    """[sandbox]: how workspace candidates are isolated; "none" only when the user writes it."""

    mode: str = "bubblewrap"


@dataclass
class Config:
    models: dict[str, ModelSpec] = field(default_factory=dict)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    tests: CommandSettings = field(default_factory=CommandSettings)
    bench: CommandSettings = field(default_factory=CommandSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    local: ServerSettings = field(default_factory=ServerSettings)
    sources: list[Path] = field(default_factory=list)  # the files read, lowest precedence first

    def gateway(self, ledger: UsageLedger | None = None) -> ModelGateway:
        """A gateway whose calls go to `ledger` (a new one by default). The job's dollar cap is on `ledger`;
        the session's on its parent (a language server's session), or on `ledger` when it has none (a
        command is its own session)."""
        ledger = ledger if ledger is not None else UsageLedger()
        return ModelGateway(
            self.models,
            ledger=ledger,
            token_budget=self.pipeline.token_budget or None,
            timeout=self.pipeline.model_timeout,
            local=self.local,
            cost_caps=self.cost_caps(ledger),
        )

    def cost_caps(self, ledger: UsageLedger) -> list[CostCap]:
        p, caps = self.pipeline, []
        if p.max_cost_usd:
            caps.append(CostCap(p.max_cost_usd, ledger))
        if p.session_max_cost_usd:
            session = ledger.parent or ledger
            caps.append(CostCap(p.session_max_cost_usd, session, "this session", "[pipeline] session_max_cost_usd"))
        return caps

    def limits(self) -> Limits:
        """What one run of a candidate's tests may take: [pipeline] test_timeout and memory_mb."""
        return Limits(wall_seconds=self.pipeline.test_timeout, memory_mb=self.pipeline.memory_mb)

    def available_models(self) -> list[str]:
        """The models the user has: [pipeline] models (aliases or litellm ids) first, in their order,
        then every other configured alias, in the order the files write them (TOML tables keep their order)."""
        return list(dict.fromkeys([*self.pipeline.models, *self.models]))

    def model_ids(self) -> dict[str, str]:
        """Alias -> litellm id, to match the user's aliases with the ids a published ranking names."""
        return {alias: spec.model for alias, spec in self.models.items()}


def user_config_path() -> Path:
    directory = os.environ.get(CONFIG_DIR_ENV) or platformdirs.user_config_dir("perforch")
    return Path(directory) / CONFIG_FILE


@dataclass(frozen=True)
class Overrides:
    """Tables shaped like perforch.toml's, laid over the files: the editor's settings. Errors name them
    `name`; a relative path in them (a profile) starts from `base`, else from the workspace."""

    data: Mapping[str, Any]
    name: str = "editor settings"
    base: Path | None = None


def load_config(
    workspace: Path | None = None, explicit: Path | None = None, overrides: Overrides | None = None
) -> Config:
    """The user file, then `explicit` (from --config) or else the workspace's perforch.toml over it, then
    `overrides` over both."""
    candidates = [user_config_path()]
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such file")
        candidates.append(explicit)
    elif workspace is not None:
        candidates.append(workspace / CONFIG_FILE)
    merged = _Merged()
    for path in candidates:
        if path.is_file():
            merged.add(_Origin(str(path), path.parent, path), _read_toml(path))
    if overrides is not None and overrides.data:
        merged.add(_Origin(overrides.name, overrides.base or workspace), overrides.data)
    return _build(merged)


# -- reading and merging -----------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = re.search(r"\(at line (\d+), column \d+\)$", message)
        if line is None:
            raise ConfigError(f"{path}: invalid TOML: {message}") from None
        reason = message[: line.start()].strip()
        raise ConfigError(f"{path}:{line.group(1)}: invalid TOML: {reason}") from None


@dataclass(frozen=True)
class _Origin:
    """A layer of settings: what errors call it, where its relative paths start, and its file if any."""

    name: str
    base: Path | None
    file: Path | None = None


class _Merged:
    """The merged tables, remembering which layer set each dotted key so errors can name it."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origins: dict[str, _Origin] = {}
        self.layers: list[_Origin] = []

    @property
    def sources(self) -> list[Path]:
        return [layer.file for layer in self.layers if layer.file is not None]

    def add(self, origin: _Origin, data: Mapping[str, Any]) -> None:
        self.layers.append(origin)
        self._merge(self.data, data, origin, "")

    def _merge(self, into: dict[str, Any], data: Mapping[str, Any], origin: _Origin, prefix: str) -> None:
        for key, value in data.items():
            dotted = f"{prefix}{key}"
            self.origins[dotted] = origin
            if isinstance(value, Mapping):
                if not isinstance(into.get(key), dict):
                    into[key] = {}
                self._merge(into[key], value, origin, f"{dotted}.")
            else:
                into[key] = value

    def origin(self, dotted: str) -> _Origin:
        """The layer that set `dotted`, or its nearest table."""
        while dotted not in self.origins and "." in dotted:
            dotted = dotted.rsplit(".", 1)[0]
        return self.origins.get(dotted, self.layers[-1])

    def error(self, dotted: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.origin(dotted).name}: {dotted}: {problem}")


# -- validation --------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list {value!r}"
    return repr(value)


_PIPELINE_CHECKS: dict[str, Callable[[Any], Any]] = {
    "profile": text,
    "models": names,
    "generators": positive_int,
    "debuggers": count,
    "debug_rounds": count,
    "refiners": count,
    "model_timeout": number(0, "a positive number of seconds", inclusive=False),
    "test_timeout": number(0, "a positive number of seconds", inclusive=False),
    "memory_mb": positive_int,
    "refine_threshold": number(1.0, "a number >= 1.0 (a speed-up ratio)", inclusive=True),
    "refine_runs": positive_int,
    "min_samples": positive_int,
    "fallback": one_of(*FALLBACKS),
    "refine": one_of(*REFINE_MODES),
    "route": one_of(*ROUTES),
    "token_budget": count,
    "max_cost_usd": number(0, "a non-negative number of dollars (0: no cap)", inclusive=True),
    "session_max_cost_usd": number(0, "a non-negative number of dollars (0: no cap)", inclusive=True),
    "learn": boolean,
}
assert set(_PIPELINE_CHECKS) == {f.name for f in fields(PipelineSettings)}

_COMMAND_CHECKS: dict[str, Callable[[Any], Any]] = {"command": text}
assert set(_COMMAND_CHECKS) == {f.name for f in fields(CommandSettings)}


_SANDBOX_CHECKS: dict[str, Callable[[Any], Any]] = {"mode": one_of(*SANDBOX_MODES)}
assert set(_SANDBOX_CHECKS) == {f.name for f in fields(SandboxSettings)}

_LOCAL_CHECKS: dict[str, Callable[[Any], Any]] = {
    "threads": positive_int,
    "context_size": positive_int,
    "max_tokens": positive_int,
}
assert set(_LOCAL_CHECKS) == set(SETTING_KEYS)

_TOP_LEVEL = ("models", "pipeline", "tests", "bench", "sandbox", "local")
# Keys that become ModelSpec fields; every other key (api_base included) is a litellm parameter.
_SPEC_FIELDS = ("model", "api_key_env", "max_concurrency")
# Set by the gateway on every call; a value here would be silently overridden, so refuse it.
_GATEWAY_OWNED = ("messages", "stream", "timeout", "num_retries", "max_retries")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _checked(merged: _Merged, dotted: str, value: Any, check: Callable[[Any], Any]) -> Any:
    try:
        return check(value)
    except Invalid as exc:
        raise merged.error(dotted, f"expected {exc.expected}, got {_shown(value)}") from None


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _build(merged: _Merged) -> Config:
    _check_top_level(merged)
    return Config(
        models=_models(merged, merged.data.get("models", {})),
        pipeline=_pipeline(merged, merged.data.get("pipeline", {})),
        tests=_command_table(merged, "tests"),
        bench=_command_table(merged, "bench"),
        sandbox=_sandbox(merged, merged.data.get("sandbox", {})),
        local=_local(merged, merged.data.get("local", {})),
        sources=merged.sources,
    )


def _check_top_level(merged: _Merged) -> None:
    for key, value in merged.data.items():
        if key in _TOP_LEVEL:
            if not isinstance(value, dict):
                raise merged.error(key, f"expected a table [{key}], got {_shown(value)}")
            continue
        if key in _PIPELINE_CHECKS:
            hint = " (did you mean to put it under [pipeline]?)"
        else:
            hint = _did_you_mean(key, list(_TOP_LEVEL))
        what = "table" if isinstance(value, dict) else "key"
        expected = ", ".join(f"[{name}]" for name in _TOP_LEVEL)
        raise merged.error(key, f"unknown {what}; expected one of {expected}{hint}")


def _pipeline(merged: _Merged, table: dict[str, Any]) -> PipelineSettings:
    values = _checked_table(merged, "pipeline", table, _PIPELINE_CHECKS)
    if "profile" in values:
        values["profile"] = _profile_location(values["profile"], merged.origin("pipeline.profile"))
    return PipelineSettings(**values)


def _command_table(merged: _Merged, name: str) -> CommandSettings:
    return CommandSettings(**_checked_table(merged, name, merged.data.get(name, {}), _COMMAND_CHECKS, "command"))


def _sandbox(merged: _Merged, table: dict[str, Any]) -> SandboxSettings:
    return SandboxSettings(**_checked_table(merged, "sandbox", table, _SANDBOX_CHECKS, "mode"))


def _local(merged: _Merged, table: dict[str, Any]) -> ServerSettings:
    return ServerSettings(**_checked_table(merged, "local", table, _LOCAL_CHECKS))


def _checked_table(
    merged: _Merged, name: str, table: dict[str, Any], checks: dict[str, Any], only_key: str = ""
) -> dict[str, Any]:
    """A table's values, each checked; an unknown key is an error that names the close match (and, for a
    table of one key, that key)."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{name}.{key}"
        if key not in checks:
            has = f"; [{name}] has `{only_key}`" if only_key else ""
            raise merged.error(dotted, f"unknown key{_did_you_mean(key, list(checks))}{has}")
        values[key] = _checked(merged, dotted, value, checks[key])
    return values


def _profile_location(profile: str, origin: _Origin) -> str:
    """A profile given as a file path is relative to the file (or the layer's folder) that names it, not to
    the cwd."""
    if not (profile.endswith(".toml") or "/" in profile or os.sep in profile):
        return profile  # a profile name, shipped or cached
    path = Path(profile).expanduser()
    if not path.is_absolute():
        path = (origin.base / path if origin.base is not None else path).resolve()
    return str(path)


def _models(merged: _Merged, tables: dict[str, Any]) -> dict[str, ModelSpec]:
    return {alias: _model(merged, alias, table) for alias, table in tables.items()}


def _model(merged: _Merged, alias: str, table: Any) -> ModelSpec:
    prefix = f"models.{alias}"
    if not isinstance(table, dict):
        raise merged.error(prefix, f"expected a table [{prefix}] with a `model` key, got {_shown(table)}")
    if "model" not in table:
        raise merged.error(prefix, "missing `model` (a litellm model id such as 'openai/gpt-4o-mini')")
    _refuse_keys(merged, prefix, table)
    api_base = table.get("api_base")
    if api_base is not None and not (isinstance(api_base, str) and re.match(r"^https?://", api_base)):
        raise merged.error(f"{prefix}.api_base", f"expected an http(s) URL, got {_shown(api_base)}")
    params = {key: value for key, value in table.items() if key not in _SPEC_FIELDS}
    if isinstance(table["model"], str) and is_local(table["model"]):
        for key in set(_LOCAL_CHECKS) & set(params):
            params[key] = _checked(merged, f"{prefix}.{key}", params[key], _LOCAL_CHECKS[key])
    return ModelSpec(
        alias=alias,
        model=_checked(merged, f"{prefix}.model", table["model"], text),
        params=params,
        api_key_env=_api_key_env(merged, prefix, table.get("api_key_env")),
        max_concurrency=_checked(merged, f"{prefix}.max_concurrency", table.get("max_concurrency", 4), positive_int),
    )


def _refuse_keys(merged: _Merged, prefix: str, table: dict[str, Any]) -> None:
    if "api_key" in table:
        # The value is not echoed: it is a secret.
        raise merged.error(
            f"{prefix}.api_key",
            "keys do not belong in a config file; put the key in an environment variable "
            "and name that variable with api_key_env",
        )
    for key in _GATEWAY_OWNED:
        if key in table:
            raise merged.error(f"{prefix}.{key}", "set by PerfOrch on every call; remove it (see [pipeline])")


def _api_key_env(merged: _Merged, prefix: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and _ENV_NAME.match(value):
        return value
    # A string that is not a variable name may well be the key itself: never echo it.
    shown = "a string that is not a variable name (not shown: it may be a key)"
    got = shown if isinstance(value, str) else _shown(value)
    expected = "the name of an environment variable (like OPENAI_API_KEY)"
    raise merged.error(f"{prefix}.api_key_env", f"expected {expected}, got {got}")
