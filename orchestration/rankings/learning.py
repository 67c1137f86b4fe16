"""Learning from use: the shipped (or profiled) ranking as a prior, the user's own outcomes as evidence.

Each (cell, model) is a Beta distribution over the model's success rate. The prior's score is its mean and
counts as `prior_weight` pseudo-observations (fewer when the prior itself rests on fewer samples); the
user's passes and failures are added to it, and the posterior mean is the model's new score. An outcome
counts at its weight: a run's tests 1, the user accepting or rejecting a proposal USER_CHOICE_WEIGHT
(outcomes.py), as a pass or a failure of each stage whose output the proposal kept. A model's
score moves only once it has `min_observations` outcomes in that cell, so a few lucky or unlucky runs do
not reorder anything. A category cell starts from the language row's posterior, so it only differs from
the row where the user's outcomes in that category say so. A model with no prior starts from Beta(1, 1).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..run import Result
from ..task import ANY_CATEGORY
from .matrix import Cell, CellProvenance, RankedModel, RankingMatrix, canonical_model
from .outcomes import ModelOutcome, OutcomeStore, PassCount, PassCountKey, choices_of, outcomes_of

log = logging.getLogger(__name__)

MIN_OBSERVATIONS = 5
PRIOR_WEIGHT = 10.0
_UNINFORMED = (0.5, 2.0)  # Beta(1, 1): mean and weight for a model the prior does not rank
LEARNED_METRIC = "posterior mean success rate (Beta: prior score as pseudo-observations, plus local outcomes)"


@dataclass(frozen=True)
class Explained:
    """How one model's score in one cell came about."""

    model: str
    prior: float | None  # the prior's score, None when the prior does not rank the model
    prior_weight: float  # pseudo-observations the prior counts as
    passes: float  # each outcome at its weight (a user's accept or reject at USER_CHOICE_WEIGHT)
    trials: float
    score: float  # what the ranking uses
    moved: bool  # trials >= min_observations: the score is the posterior, not the prior
    accepted: int = 0  # of the outcomes, the user's accepts and rejects of the model's proposals
    rejected: int = 0
    tokens: float | None = None  # per attempt in the user's own runs, where they measured it
    cost_usd: float | None = None


class Learner:
    """The user's outcomes, in memory and in the store, and the rankings they make with a prior."""

    def __init__(
        self,
        store: OutcomeStore | None = None,
        *,
        min_observations: int = MIN_OBSERVATIONS,
        prior_weight: float = PRIOR_WEIGHT,
    ) -> None:
        self.store = store
        self.min_observations = min_observations
        self.prior_weight = prior_weight
        self.tallies: dict[PassCountKey, PassCount] = self._load()
        self._cache: tuple[RankingMatrix, tuple, RankingMatrix] | None = None  # (prior, ids, blend)

    @classmethod
    def open(cls) -> Learner:
        """The learner over the user's own store (platformdirs data dir, or PERFORCH_DATA_DIR)."""
        return cls(OutcomeStore.default())

    def _load(self) -> dict[PassCountKey, PassCount]:
        if self.store is None:
            return {}
        try:
            return self.store.tallies()
        except (sqlite3.Error, OSError) as exc:
            log.warning("outcome store %s unreadable (%s); ranking by the prior alone", self.store.path, exc)
            return {}

    @property
    def observations(self) -> float:
        return sum(t.trials for t in self.tallies.values())

    async def record(self, result: Result, ids: Mapping[str, str]) -> None:
        """Count the run's outcomes now, and write them to the store; a store that cannot be written
        (locked, corrupt, read-only) costs a warning, and the outcomes still count in this process."""
        await self._count(outcomes_of(result, ids))

    async def record_choice(self, result: Result, ids: Mapping[str, str], accepted: bool) -> None:
        """Count the user's accept (or reject) of the proposal `result` made, for (against) the models whose
        output it kept; as `record`, a store that cannot be written costs a warning."""
        await self._count(choices_of(result, ids, accepted))

    async def _count(self, outcomes: list[ModelOutcome]) -> None:
        for o in outcomes:
            self.tallies.setdefault((o.stage, o.language, o.category, o.model), PassCount()).add(PassCount.of(o))
        self._cache = None
        if self.store is None or not outcomes:
            return
        try:
            await asyncio.to_thread(self.store.add, outcomes)
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not record outcomes in %s: %s", self.store.path, exc)

    def blended(self, prior: RankingMatrix, ids: Mapping[str, str] | None = None) -> RankingMatrix:
        """The prior with every cell the user's outcomes moved replaced by its posterior."""
        key = tuple(sorted((ids or {}).items()))
        if self._cache is None or self._cache[0] is not prior or self._cache[1] != key:
            self._cache = (prior, key, self._blend(prior, ids))
        return self._cache[2]

    def explain(self, prior: RankingMatrix, cell: Cell, ids: Mapping[str, str] | None = None) -> list[Explained]:
        """Prior, observations and resulting score of every model in a cell, best first."""
        stage, language, category = cell
        canonical = _canonical(prior, ids)
        row = self._posterior(canonical.cell(stage, language), self._observed(stage, language, ANY_CATEGORY))
        if category == ANY_CATEGORY:
            return row
        base = canonical.cell(stage, language, category) or [RankedModel(e.model, e.score) for e in row]
        return self._posterior(base, self._observed(stage, language, category))

    # -- the blend ----------------------------------------------------------------------------------

    def _blend(self, prior: RankingMatrix, ids: Mapping[str, str] | None) -> RankingMatrix:
        canonical = _canonical(prior, ids)
        blended = RankingMatrix(dict(canonical.cells), canonical.provenance, dict(canonical.sources))
        for cell in self._cells(canonical):
            explained = self.explain(canonical, cell)
            if any(e.moved for e in explained):
                trials = sum(e.trials for e in explained if e.moved)
                known = canonical.cell(*cell) + canonical.cell(cell[0], cell[1])
                ranking = [_ranked(e, known) for e in explained]
                blended.set(*cell, ranking, _learned(_base_provenance(canonical, cell), trials))
        return blended

    def _cells(self, prior: RankingMatrix) -> list[Cell]:
        """Every cell the prior has or an outcome falls in, language rows first."""
        cells = set(prior.cells) | {(s, lang, c) for s, lang, c, _ in self.tallies}
        cells |= {(s, lang, ANY_CATEGORY) for s, lang, _ in cells}
        return sorted(cells, key=lambda c: (c[2] != ANY_CATEGORY, c))

    def _observed(self, stage: str, language: str, category: str) -> dict[str, PassCount]:
        """Outcomes per model in a cell; the language row counts every category's outcomes."""
        observed: dict[str, PassCount] = defaultdict(PassCount)
        for (s, lang, c, model), tally in self.tallies.items():
            if s == stage and lang == language and category in (c, ANY_CATEGORY):
                observed[model].add(tally)
        return observed

    def _posterior(self, prior: list[RankedModel], observed: Mapping[str, PassCount]) -> list[Explained]:
        explained = []
        by_model = {r.model: r for r in prior}
        for model in [*by_model, *(m for m in observed if m not in by_model)]:
            entry, tally = by_model.get(model), observed.get(model, PassCount())
            mean, weight = (entry.score, self._weight(entry)) if entry else _UNINFORMED
            moved = tally.trials >= self.min_observations
            if entry is None and not moved:
                continue  # too little evidence to rank a model the prior does not know
            score = (mean * weight + tally.passes) / (weight + tally.trials) if moved else mean
            prior_score = entry.score if entry else None
            explained.append(
                Explained(
                    model, prior_score, weight, tally.passes, tally.trials, round(score, 4), moved,
                    tally.accepted, tally.rejected, tally.tokens_per_attempt, tally.cost_per_attempt,
                )
            )  # fmt: skip
        return sorted(explained, key=lambda e: (-e.score, -e.trials))  # stable: ties keep the prior's order

    def _weight(self, entry: RankedModel) -> float:
        """A prior counts as prior_weight observations, or as its own samples when it rests on fewer."""
        return float(min(entry.samples, self.prior_weight)) if entry.samples else self.prior_weight


def _canonical(prior: RankingMatrix, ids: Mapping[str, str] | None) -> RankingMatrix:
    """The prior with every model named by its litellm id, as outcomes are stored."""
    if not ids and not any(r.model.startswith("openai/") for ranking in prior.cells.values() for r in ranking):
        return prior
    cells = {
        cell: [replace(r, model=canonical_model(r.model, ids)) for r in ranking]
        for cell, ranking in prior.cells.items()
    }
    return RankingMatrix(cells, prior.provenance, dict(prior.sources))


def _ranked(e: Explained, known: list[RankedModel]) -> RankedModel:
    source = next((r for r in known if r.model == e.model), None)
    samples = (source.samples if source else 0) + (round(e.trials) if e.moved else 0)
    # The posterior is the chance to pass now (no rate); what an attempt costs is the user's own runs' measure,
    # else the prior's.
    tokens = e.tokens if e.tokens is not None else (source.tokens if source else None)
    cost = e.cost_usd if e.cost_usd is not None else (source.cost_usd if source else None)
    return RankedModel(e.model, e.score, samples, source.source_name if source else "", None, tokens, cost)


def _base_provenance(prior: RankingMatrix, cell: Cell) -> CellProvenance | None:
    stage, language, _ = cell
    for candidate in (cell, (stage, language, ANY_CATEGORY)):
        if candidate in prior.cells:
            return prior.provenance_of(candidate)
    return None


def _learned(base: CellProvenance | None, trials: float) -> CellProvenance:
    origin = f"{base.source} ({base.date}), " if base and base.source else ""
    return CellProvenance(
        source=f"{origin}blended with {trials:g} local outcomes",
        table=base.table if base else "",
        metric=LEARNED_METRIC,
        date=base.date if base else "",
        url=base.url if base else "",
    )
