"""What `perforch rankings` shows: the ranking in force (the prior, blended with the user's outcomes when
learning is on), where each cell comes from, and the order the user's own models get: the Router's, so the
order shown is the order a run uses. Text and JSON here; the HTML page is html.py. The language server's
rankings request can serve `as_json` as it is."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..languages import LANGUAGES
from ..task import ANY_CATEGORY, STAGES
from .learning import Explained, Learner
from .matrix import STAGE_FALLBACK, Cell, CellProvenance, RankingMatrix
from .outcomes import USER_CHOICE_WEIGHT
from .router import Router
from .routes import WHY, Figures


@dataclass
class RankingsView:
    router: Router  # with no `available` models (a freshly profiled matrix), no "your order" is shown

    @property
    def name(self) -> str:
        return self.router.profile

    @property
    def prior(self) -> RankingMatrix:
        return self.router.prior

    @property
    def learner(self) -> Learner | None:
        return self.router.learner

    @property
    def available(self) -> tuple[str, ...] | None:
        return self.router.available

    @property
    def ids(self) -> Mapping[str, str]:
        return self.router.ids

    @property
    def matrix(self) -> RankingMatrix:
        return self.router.matrix

    def languages(self, only: str | None = None) -> list[str]:
        if only:
            return [only]
        observed = {lang for (_, lang, _, _) in self.learner.tallies} if self.learner else set()
        return [lang for lang in LANGUAGES if lang in set(self.matrix.languages()) | observed]

    def cells(self, language: str) -> list[Cell]:
        """The language's cells: every stage's row (present or not), then its category cells."""
        categories = sorted({c for (_, lang, c) in self.matrix.cells if lang == language and c != ANY_CATEGORY})
        rows = [(stage, language, ANY_CATEGORY) for stage in STAGES]
        return rows + [(s, language, c) for c in categories for s in STAGES if (s, language, c) in self.matrix.cells]

    def your_order(self, stage: str, language: str, category: str = ANY_CATEGORY) -> list[str]:
        """The models the pipeline would try for the cell, as the user names them."""
        return [] if self.available is None else self.router.order(stage, language, category)

    def explain(self, cell: Cell) -> list[Explained]:
        learner = self.learner or Learner(None)
        return learner.explain(self.prior, cell, self.ids)

    # -- JSON ----------------------------------------------------------------------------------------

    def as_json(self, languages: Iterable[str], explain: bool = False) -> dict:
        p = self.prior.provenance
        cells = []
        for language in languages:
            for cell in self.cells(language):
                cells.append(self._cell_json(cell, explain))
        return {
            "profile": self.name,
            "provenance": {
                "benchmark": p.benchmark,
                "date": p.date,
                "models": list(p.models),
                "metric": p.metric,
                "notes": list(p.notes),
                "dropped": list(p.dropped),
            },
            "learning": self._learning_json(),
            "left_out": list(self.router.left_out),
            **({"no_model": self.router.unroutable} if self.router.unroutable else {}),
            "stage_fallback": dict(STAGE_FALLBACK),
            "cells": cells,
        }

    def _cell_json(self, cell: Cell, explain: bool) -> dict:
        stage, language, category = cell
        ranking = self.matrix.cells.get(cell, [])
        entry: dict = {
            "stage": stage,
            "language": language,
            "category": category,
            "ranking": [vars(r) for r in ranking],
            "provenance": vars(self.matrix.provenance_of(cell)) if ranking else None,
            "fallback": _fallback(stage) if not ranking else None,
        }
        if self.available is not None:
            entry["your_order"] = self.your_order(*cell)
        if explain:
            entry["explain"] = [vars(e) for e in self.explain(cell)]
            entry["min_samples"] = self.router.min_samples
            if self.available is not None:
                entry["route"] = self.route_json(cell)
        return entry

    def _learning_json(self) -> dict:
        if self.learner is None:
            return {"enabled": False}
        return {
            "enabled": True,
            "store": str(self._store) if self._store else None,
            "observations": self.learner.observations,
            "min_observations": self.learner.min_observations,
            "prior_weight": self.learner.prior_weight,
        }

    # -- text ----------------------------------------------------------------------------------------

    def text(self, languages: Iterable[str], explain: bool = False) -> str:
        p = self.prior.provenance
        lines = [
            f"profile {self.name}: {p.benchmark or 'no benchmark named'} ({p.date or 'undated'})",
            *([f"metric: {p.metric}"] if p.metric else []),
            self.learning_line(),
            *(f"left out: {reason}" for reason in self.router.left_out),
            *([f"your models: {self.router.unroutable}"] if self.router.unroutable else []),
        ]
        for language in languages:
            lines.append(f"\n{language}")
            for cell in self.cells(language):
                lines += self._cell_text(cell, explain)
        if explain:
            lines += ["", "notes:", *(f"  - {note}" for note in p.notes)]
            lines += [f"left out ({len(p.dropped)}):", *(f"  - {why}" for why in p.dropped)]
        return "\n".join(lines)

    def learning_line(self) -> str:
        if self.learner is None:
            return "learning: off ([pipeline] learn = false); the profile alone ranks"
        return (
            f"learning: on, {self.learner.observations:g} local outcomes in {self._store or 'memory'}; a score moves "
            f"after {self.learner.min_observations} outcomes in its cell, the prior counting as "
            f"{self.learner.prior_weight:g} observations, a user's accept or reject of a proposal as "
            f"{USER_CHOICE_WEIGHT:g} of one"
        )

    @property
    def _store(self) -> Path | None:
        store = self.learner.store if self.learner else None
        return store.path if store else None

    def _cell_text(self, cell: Cell, explain: bool) -> list[str]:
        stage, language, category = cell
        where = "all categories" if category == ANY_CATEGORY else f"category {category}"
        ranking = self.matrix.cells.get(cell, [])
        if not ranking:
            lines = [f"  {stage} ({where}): no ranking; {_fallback(stage)}"]
        else:
            lines = [f"  {stage} ({where}): {self._cell_source(cell)}"]
            if explain:
                lines += self._samples_text(cell) + _explain_text(self.explain(cell))
            else:
                for n, r in enumerate(ranking, 1):
                    named = f"  {r.source_name}" if r.source_name else ""
                    lines.append(f"    {n:>2}. {r.model:<32} {r.score:6.3f}  n={r.samples:<4}{named}")
        if self.available is not None:
            lines.append(f"    your models, in this order: {', '.join(self.your_order(*cell)) or '(none)'}")
            if explain:
                lines += self._route_text(cell)
        return lines

    def _samples_text(self, cell: Cell) -> list[str]:
        """Each entry's score (a profiled one: its rate's Wilson lower bound), rate and samples; an entry too
        thin to count in a category cell."""
        min_samples = self.router.min_samples
        lines = [
            f"    {'model':<34} {'score':>6} {'rate':>6} {'n':>5} {'tokens':>7} {'$/attempt':>10} {'$/pass':>10}"
            "  (ties: the language row, then fallbacks)"
        ]
        for r in self.matrix.cells.get(cell, []):
            rate = f"{r.rate:6.3f}" if r.rate is not None else "     -"
            thin = cell[2] != ANY_CATEGORY and 0 < r.samples < min_samples
            note = f"  not used: fewer than {min_samples} samples, the language row places it" if thin else ""
            figures = Figures(r.chance, r.cost_usd, r.tokens)
            lines.append(f"    {r.model:<34} {r.score:6.3f} {rate} {r.samples:>5} {_figures_text(figures)}{note}")
        return lines

    def route_json(self, cell: Cell) -> dict:
        """How the route orders the user's models in the cell, and each one's figures."""
        order = self.your_order(*cell)
        figures = self.router.figures(*cell, order)
        shown = {m: {**vars(f), "cost_to_pass": _finite(f.cost_to_pass)} for m, f in figures.items()}
        return {"policy": self.router.route, "why": WHY[self.router.route], "figures": shown}

    def _route_text(self, cell: Cell) -> list[str]:
        order = self.your_order(*cell)
        figures = self.router.figures(*cell, order)
        lines = [f"    route: {WHY[self.router.route]}"]
        for model in order:
            chance = figures[model].chance
            shown = f"{chance:6.3f}" if chance is not None else "     -"
            lines.append(f"      {model:<32} chance {shown} {_figures_text(figures[model])}")
        return lines

    def _cell_source(self, cell: Cell) -> str:
        """A cell's own source (published data), or a pointer to the header (a profiled matrix says its
        benchmark and metric once)."""
        if cell in self.matrix.sources:
            return _source_text(self.matrix.sources[cell])
        return "profiled (see the metric above)"


def _figures_text(figures: Figures) -> str:
    """tokens, dollars per attempt and expected dollars to a pass; "unpriced" where no price is known."""
    tokens = f"{figures.tokens:7.0f}" if figures.tokens is not None else "      -"
    if figures.cost_usd is None:  # measured without a price: unpriced; never measured: unknown
        return f"{tokens} {'unpriced' if figures.tokens is not None else '-':>10} {'-':>10}"
    to_pass = figures.cost_to_pass
    return (
        f"{tokens} {figures.cost_usd:10.6f} {to_pass:10.6f}"
        if to_pass != math.inf
        else f"{tokens} {figures.cost_usd:10.6f} {'never':>10}"
    )


def _finite(value: float | None) -> float | None:
    return None if value is None or value == math.inf else round(value, 8)


def _fallback(stage: str) -> str:
    if stage in STAGE_FALLBACK:
        return f"falls back to the {STAGE_FALLBACK[stage]} order, then the configured order"
    return "the configured order applies ([pipeline].models, else the [models.*] aliases as written)"


def _source_text(source: CellProvenance) -> str:
    parts = [source.source, source.table, source.metric, source.date, source.url]
    return "; ".join(part for part in parts if part) or "no provenance recorded"


def _explain_text(explained: list[Explained]) -> list[str]:
    lines = [f"    {'model':<34} {'prior':>6} {'weight':>6} {'passed':>9} {'kept':>5} {'reject':>6} {'score':>6}"]
    for e in explained:
        prior = f"{e.prior:6.3f}" if e.prior is not None else "     -"
        state = "moved" if e.moved else ("prior kept: too few outcomes" if e.trials else "")
        passed = f"{e.passes:g}/{e.trials:g}"
        lines.append(
            f"    {e.model:<34} {prior} {e.prior_weight:6g} {passed:>9} {e.accepted:>5} {e.rejected:>6} "
            f"{e.score:6.3f}  {state}"
        )
    lines.append(f"    order: {', '.join(e.model for e in explained)}")
    return lines
