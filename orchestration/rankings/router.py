"""Which models a run asks, stage by stage. One Router, built from the config, serves the pipeline, a proposal,
the rankings view and the server, so the order `perforch rankings` shows is the order a run uses.

Its inputs: the prior (a profile), the user's outcomes blended into it (when learning is on), the user's models
and their litellm ids, the configured order, and, for a user with no model and no provider key, the bundled
local model with the profile measured on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import local_server
from ..config import Config, PipelineSettings
from ..models import with_keys_in_environment
from ..run import Result
from ..task import ANY_CATEGORY
from .learning import Learner
from .matrix import RankingMatrix
from .profiles import load_profile


@dataclass(frozen=True)
class Router:
    prior: RankingMatrix
    profile: str = ""  # the prior's name, as the user gave it (or the fallback's)
    available: tuple[str, ...] | None = None  # the user's models as the user names them; None: any model named
    ids: Mapping[str, str] = field(default_factory=dict)  # alias -> litellm id
    default_order: tuple[str, ...] = ()  # tried after every cell's ranking
    learner: Learner | None = None  # None: the prior alone ranks
    unroutable: str = ""  # why no model can be asked, when none can

    @classmethod
    def configured(cls, config: Config, profile: str | None = None, *, learn: bool = True) -> Router:
        """The route for `config`: its profile (or `profile`), blended with the user's outcomes when the config
        learns (and `learn`), over the models the user has. With no model configured and no provider key set,
        the bundled local model, ranked by the profile measured on it unless the user chose a profile."""
        name = profile or config.pipeline.profile
        prior = load_profile(name)
        learner = Learner.open() if learn and config.pipeline.learn else None
        ids = config.model_ids()
        available = config.available_models() or with_keys_in_environment(prior.models())
        default_order = config.pipeline.models
        if not available:
            try:
                fallback = local_server.fallback_model()
            except local_server.NoModelError as exc:
                return cls(prior, name, (), ids, default_order, learner, unroutable=str(exc))
            available, default_order = [fallback], (fallback,)
            if profile is None and name == PipelineSettings().profile:
                name = local_server.FALLBACK_PROFILE
                prior = load_profile(name)
        return cls(prior, name, tuple(available), ids, tuple(default_order), learner)

    @classmethod
    def single(cls, model: str) -> Router:
        """Every stage asks `model` alone (a baseline)."""
        return cls(RankingMatrix(), default_order=(model,))

    @property
    def matrix(self) -> RankingMatrix:
        """The ranking in force: the prior, blended with the user's outcomes when learning is on."""
        return self.learner.blended(self.prior, self.ids) if self.learner else self.prior

    def order(self, stage: str, language: str, category: str = ANY_CATEGORY) -> list[str]:
        """The models to try for the cell, best first, as the user names them."""
        return self.matrix.ranked(
            stage, language, category, default_order=self.default_order, available=self.available, ids=self.ids
        )

    def check(self) -> None:
        """Raise NoModelError, saying why and how to fix it, when no model can be asked at all."""
        if self.unroutable:
            raise local_server.NoModelError(self.unroutable)

    async def learn(self, result: Result) -> None:
        """Count a finished run's outcomes (the pipeline's on_finished hook); nothing when learning is off."""
        if self.learner is not None:
            await self.learner.record(result, self.ids)
