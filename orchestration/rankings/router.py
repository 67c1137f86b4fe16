"""Which models a run asks, stage by stage. One Router, built from the config, serves the pipeline, a proposal,
the rankings view and the server, so the order `perforch rankings` shows is the order a run uses.

The models the user has are `[pipeline].models` (aliases or litellm ids) in their order, then every
`[models.*]` alias in the order the file writes them, each whose key is not set left out (with the reason);
that list is also the order wherever the ranking is silent (categorize, a language no source ranks, a model no
source knows). A user with no model configured gets the published models whose provider key is set, else the
bundled local model, ranked by the profile measured on it unless the user chose a profile. A run that could ask
no model at all is refused before anything is spent (`check`), with the reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .. import local_server
from ..config import Config, PipelineSettings
from ..errors import PerfOrchError
from ..models import with_keys_in_environment
from ..run import Result
from ..task import ANY_CATEGORY
from .learning import Learner
from .matrix import MIN_SAMPLES, RankedModel, RankingMatrix, canonical_model
from .profiles import load_profile
from .routes import Figures, routed

log = logging.getLogger(__name__)


class NoModelToAsk(PerfOrchError):
    """No model the run could route to is reachable; the message says why and how to fix it."""


@dataclass(frozen=True)
class Router:
    prior: RankingMatrix
    profile: str = ""  # the prior's name, as the user gave it (or the fallback's)
    # The user's models as the user names them, in the order tried where the ranking is silent; None: any model
    # the ranking names, then `default_order` (a benchmark's unrestricted run, a single-model baseline).
    available: tuple[str, ...] | None = None
    ids: Mapping[str, str] = field(default_factory=dict)  # alias -> litellm id
    default_order: tuple[str, ...] = ()  # only with available=None
    learner: Learner | None = None  # None: the prior alone ranks
    left_out: tuple[str, ...] = ()  # why each configured model left out cannot be asked
    unroutable: str = ""  # why no model can be asked, when none can
    min_samples: int = MIN_SAMPLES  # [pipeline] min_samples: see RankingMatrix.ranked
    fills_slots: bool = False  # every slot of a stage asks the first model (a same-budget single-model baseline)
    route: str = "quality"  # [pipeline] route: how `order` trades chance to pass against cost (routes.py)

    @classmethod
    def configured(cls, config: Config, profile: str | None = None, *, learn: bool = True) -> Router:
        """The route for `config` (see the module's docstring): its profile (or `profile`), blended with the
        user's outcomes when the config learns (and `learn`)."""
        configured = cls._configured(config, profile, learn=learn)
        return replace(configured, min_samples=config.pipeline.min_samples, route=config.pipeline.route)

    @classmethod
    def _configured(cls, config: Config, profile: str | None, *, learn: bool) -> Router:
        name = profile or config.pipeline.profile
        prior = load_profile(name)
        learner = Learner.open() if learn and config.pipeline.learn else None
        ids = config.model_ids()
        configured = config.available_models()
        reasons = {model: missing_key(config, model) for model in configured}
        reachable = tuple(model for model in configured if reasons[model] is None)
        left_out = tuple(reason for reason in reasons.values() if reason is not None)
        if configured:
            unroutable = "" if reachable else _no_model_message(left_out, config)
            return cls(prior, name, reachable, ids, (), learner, left_out, unroutable)
        from_environment = tuple(with_keys_in_environment(prior.models()))
        if from_environment:
            return cls(prior, name, from_environment, ids, (), learner)
        try:
            fallback = local_server.fallback_model()
        except local_server.NoModelError as exc:
            return cls(prior, name, (), ids, (), learner, unroutable=str(exc))
        if profile is None and name == PipelineSettings().profile:
            name = local_server.FALLBACK_PROFILE
            prior = load_profile(name)
        return cls(prior, name, (fallback,), ids, (), learner)

    @classmethod
    def single(cls, model: str) -> Router:
        """Every stage asks `model` alone, in as many slots as a routed run has (a baseline on the same budget)."""
        return cls(RankingMatrix(), default_order=(model,), fills_slots=True)

    @property
    def matrix(self) -> RankingMatrix:
        """The ranking in force: the prior, blended with the user's outcomes when learning is on."""
        return self.learner.blended(self.prior, self.ids) if self.learner else self.prior

    def order(self, stage: str, language: str, category: str = ANY_CATEGORY) -> list[str]:
        """The models to try for the cell, best first, as the user names them: the cell's ranking restricted to
        the user's models, each model the ranking does not place following in the user's order; then reordered
        by the route (routes.py) when it is not "quality"."""
        quality = self.quality_order(stage, language, category)
        if self.route == "quality":
            return quality
        return routed(self.route, quality, self.figures(stage, language, category, quality))

    def quality_order(self, stage: str, language: str, category: str = ANY_CATEGORY) -> list[str]:
        """The ranking's order for the cell: by score, as the user names the models."""
        if self.available is None:
            default_order, available = self.default_order, None
        else:
            default_order, available = self.available, self.available
        return self.matrix.ranked(
            stage,
            language,
            category,
            default_order=default_order,
            available=available,
            ids=self.ids,
            min_samples=self.min_samples,
        )

    def figures(self, stage: str, language: str, category: str, models: list[str]) -> dict[str, Figures]:
        """Each model's chance to pass and cost per attempt in the cell: from the first of the cells the ranking
        reads (matrix.sources_of) that measured it."""
        entries: dict[str, list[RankedModel]] = {}
        for _, ranking in self.matrix.sources_of(stage, language, category, self.min_samples):
            for entry in ranking:
                entries.setdefault(canonical_model(entry.model, self.ids), []).append(entry)
        figures = {}
        for model in models:
            found = entries.get(canonical_model(model, self.ids), [])
            chance = found[0].chance if found else None
            cost = next((e for e in found if e.cost_usd is not None), None)
            figures[model] = Figures(chance, cost.cost_usd if cost else None, cost.tokens if cost else None)
        return figures

    def check(self) -> None:
        """Before a run: NoModelToAsk, saying why and how to fix it, when no model can be asked at all; a
        warning for each configured model left out."""
        if self.unroutable:
            raise NoModelToAsk(self.unroutable)
        for reason in self.left_out:
            log.warning("%s: that model is left out of this run", reason)

    async def learn(self, result: Result) -> None:
        """Count a finished run's outcomes (the pipeline's on_finished hook); nothing when learning is off."""
        if self.learner is not None:
            await self.learner.record(result, self.ids)

    async def learn_choice(self, result: Result, accepted: bool) -> None:
        """Count the user's accept or reject of the proposal `result` made; nothing when learning is off."""
        if self.learner is not None:
            await self.learner.record_choice(result, self.ids, accepted)


def missing_key(config: Config, model: str) -> str | None:
    """Why `model` (an alias or a litellm id) cannot be asked, or None: its key's variable is not set."""
    spec = config.models.get(model)
    if spec is None or spec.api_key_env is None or os.environ.get(spec.api_key_env):
        return None  # no variable named: litellm uses the provider's own, or the server needs none
    return f"[models.{model}]'s key {spec.api_key_env} is not set"


def _no_model_message(reasons: tuple[str, ...], config: Config) -> str:
    variables = sorted({spec.api_key_env for spec in config.models.values() if spec.api_key_env})
    return (
        f"no model to ask: {'; '.join(reasons)}; set {' or '.join(variables)} in the environment PerfOrch runs in "
        "(each [models.<alias>] names its key's variable with api_key_env), or configure a model that needs no key"
    )
