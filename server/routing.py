"""perforch/routing: the models a job on a given file would ask, stage by stage, with the config resolved as the
job resolves it (configFile, else the perforch.toml nearest above the file; the editor settings over it), and
what stops it: a broken perforch.toml, a key not set. A status bar built on this names the model the job uses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from perforch.orchestration.config import CONFIG_FILE, Config, ConfigError
from perforch.orchestration.languages import UnsupportedLanguage, language_of_path
from perforch.orchestration.rankings.router import Router
from perforch.orchestration.task import ANY_CATEGORY
from perforch.orchestration.workspace import config_root
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from .settings import Settings, engine_config

ROUTING = "perforch/routing"
STAGES = ("generate", "debug", "refine")


def router(config: Config, profile: str) -> Router:
    """The router a job uses: the profile setting over [pipeline] profile."""
    return Router.configured(config, profile or None)


def routing(settings: Settings, root: Path | None, fields: dict[str, Any]) -> dict:
    """fields: {"uri": str} (the file a job would run on) and optionally {"category": str}.

    Answers {language, config (the perforch.toml in force, or null), order: {stage: [models]}, model (the first
    generator), why (one line), missing_keys, models ([{alias, model, key_env, key_set}]), left_out, problem
    ("" or what stops a job), problem_kind ("", "config", "missing_key", "no_model")}."""
    if not fields.get("uri"):
        raise JsonRpcInvalidParams(f"{ROUTING}: params.uri is required: the file a job would run on")
    file = Path(to_fs_path(fields["uri"]) or fields["uri"])
    try:
        language = language_of_path(str(file))
    except UnsupportedLanguage as exc:
        raise JsonRpcInvalidParams(f"{ROUTING}: {exc}") from None
    config_file = _config_file(settings, file, root)
    answer: dict = {"language": language, "config": str(config_file) if config_file.is_file() else None}
    try:
        config = engine_config(settings, file, root)
    except ConfigError as exc:
        return {**answer, **_empty(), "problem": f"{exc}", "problem_kind": "config"}
    route = router(config, settings.profile)
    category = fields.get("category") or ANY_CATEGORY
    order = {stage: route.order(stage, language, category) for stage in STAGES}
    top = order["generate"][0] if order["generate"] else ""
    missing = missing_keys(config)
    answer |= {
        "order": order,
        "model": top,
        "profile": route.profile,
        "why": _why(route, top, language, category),
        "missing_keys": missing,
        "models": _models(config),
        "left_out": list(route.left_out),
        "problem": route.unroutable,
        "problem_kind": ("missing_key" if missing else "no_model") if route.unroutable else "",
    }
    return answer


def _empty() -> dict:
    return {"order": {}, "model": "", "profile": "", "why": "", "missing_keys": [], "models": [], "left_out": []}


def _models(config: Config) -> list[dict]:
    """The user's models: alias, litellm id, the variable holding its key and whether it is set."""
    return [
        {"alias": alias, "model": config.model_ids().get(alias, alias), "key_env": spec.api_key_env or "",
         "key_set": bool(spec.api_key_env and os.environ.get(spec.api_key_env))}
        for alias in config.available_models()
        if (spec := config.models.get(alias)) is not None
    ]  # fmt: skip


def _config_file(settings: Settings, file: Path, root: Path | None) -> Path:
    """The perforch.toml a job on `file` reads (it may not exist), as settings.engine_config finds it."""
    if settings.config_file:
        explicit = Path(settings.config_file).expanduser()
        return root / explicit if not explicit.is_absolute() and root is not None else explicit
    return config_root(file) / CONFIG_FILE


def missing_keys(config: Config) -> list[str]:
    """The api_key_env variables of the configured models that are not set."""
    names = {spec.api_key_env for spec in config.models.values() if spec.api_key_env}
    return sorted(name for name in names if not os.environ.get(name))


def _why(route: Router, top: str, language: str, category: str) -> str:
    """One line: why the first generator is the one a job asks first."""
    if not top:
        return ""
    where = language if category == ANY_CATEGORY else f"{language}/{category}"
    cell = route.matrix.cell("generate", language, category) or route.matrix.cell("generate", language)
    ranked = [entry.model for entry in cell]
    placed = top in ranked or route.ids.get(top) in ranked
    if route.available is not None and len(route.available) == 1:
        return f"{top} is the only model you have that can be asked"
    if placed:
        return f"{top} ranks first of your models for {where} in the {route.profile} ranking"
    silent = f"the {route.profile} ranking places none of yours for {where}"
    return f"{top} is first in your order ([pipeline] models): {silent}"
