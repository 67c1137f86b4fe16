"""Which models a run asks, and in what order: the one place a config and a profile become a route.

The models the user has are `[pipeline].models` (aliases or litellm ids) in their order, then every
`[models.*]` alias in the order the file writes them; that list is also the order wherever the ranking is
silent (categorize, a language no source ranks, a model no source knows). A user with no model configured
gets the published models whose provider key is set, else the bundled local model. A run that could ask no
model at all is refused here, with the reason, before anything else is spent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from . import local_server
from .config import Config, PipelineSettings
from .memory import RankingMatrix, load_profile
from .models import with_keys_in_environment

log = logging.getLogger(__name__)


class NoModelToAsk(ValueError):
    """No model the run could route to is reachable; the message says why and how to fix it."""


@dataclass(frozen=True)
class Route:
    """What a run routes by: the config (with the fallback model, if one was chosen), the prior ranking,
    and the models to ask, as the user names them, in the order used where the ranking is silent."""

    config: Config
    rankings: RankingMatrix
    models: tuple[str, ...]
    ids: dict[str, str] = field(default_factory=dict)  # alias -> litellm id
    unreachable: tuple[str, ...] = ()  # why each configured model left out cannot be asked


def ranked_models(
    matrix: RankingMatrix,
    stage: str,
    language: str,
    category: str,
    models: Sequence[str],
    ids: Mapping[str, str] | None = None,
) -> list[str]:
    """The cell's ranking restricted to `models` (the user's, in their order), each model the ranking does not
    place following in that order."""
    return matrix.ranked(stage, language, category, default_order=models, available=models, ids=ids)


def configured_route(config: Config, profile: str | None = None) -> Route:
    """The route over the models the config names, those whose key is not set left out (with the reason).
    Its `models` are empty when the config names none, or none is reachable: what `perforch rankings` shows."""
    rankings = load_profile(profile or config.pipeline.profile)
    configured = config.available_models()
    reasons = {model: missing_key(config, model) for model in configured}
    reachable = tuple(model for model in configured if reasons[model] is None)
    unreachable = tuple(reason for reason in reasons.values() if reason is not None)
    return Route(config, rankings, reachable, config.model_ids(), unreachable)


def route(config: Config, profile: str | None = None) -> Route:
    """The route for a run: see the module's docstring. Raises NoModelToAsk when no model can be asked."""
    configured = configured_route(config, profile)
    for reason in configured.unreachable if configured.models else ():
        log.warning("%s: that model is left out of this run", reason)
    if configured.models:
        return configured
    if configured.unreachable:
        raise NoModelToAsk(_no_model_message(config))
    rankings = configured.rankings
    from_environment = with_keys_in_environment(rankings.models())
    if from_environment:
        return Route(config, rankings, tuple(from_environment))
    try:
        config = config.with_models([local_server.fallback_model()])
    except local_server.NoModelError as exc:
        raise NoModelToAsk(str(exc)) from None
    if profile is None and config.pipeline.profile == PipelineSettings().profile:
        rankings = load_profile(local_server.FALLBACK_PROFILE)
    return Route(config, rankings, tuple(config.available_models()), config.model_ids())


def missing_key(config: Config, model: str) -> str | None:
    """Why `model` (an alias or a litellm id) cannot be asked, or None: its key's variable is not set."""
    spec = config.models.get(model)
    if spec is None or spec.api_key_env is None or os.environ.get(spec.api_key_env):
        return None  # no variable named: litellm uses the provider's own, or the server needs none
    return f"[models.{model}]'s key {spec.api_key_env} is not set"


def _no_model_message(config: Config) -> str:
    reasons = [reason for model in config.available_models() if (reason := missing_key(config, model))]
    variables = sorted({spec.api_key_env for spec in config.models.values() if spec.api_key_env})
    return (
        f"no model to ask: {'; '.join(reasons)}; set {' or '.join(variables)} in the environment PerfOrch runs in "
        "(each [models.<alias>] names its key's variable with api_key_env), or configure a model that needs no key"
    )
