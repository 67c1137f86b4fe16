"""The ranking matrix: (stage, language, category) -> models ranked best first, with scores and samples.

A matrix reads and writes TOML with provenance: the matrix's own, and optionally one per cell (source, table,
metric, date), as the shipped profile built from published results has. Where profiles live: profiles.py.

Cells name models by litellm id or by a user's alias; `ranked` matches both against the models the user
has, so a published id reaches the user under the alias that points at it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace

import tomli_w

from ..errors import PerfOrchError
from ..languages import LANGUAGES
from ..task import ANY_CATEGORY, STAGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Where a stage has no ranking of its own for a model, the order of another stage is the next best guess:
# no per-language efficiency figures are published (so refine has no seed), and repair results cover
# fewer models than generation results. A model that writes the language well is the better bet.
STAGE_FALLBACK: dict[str, str] = {"refine": "generate", "debug": "generate"}

# A category cell's entry counts only with this many samples; below it the language row decides ([pipeline]).
MIN_SAMPLES = 5
# The Wilson interval's z: a profiled rate is scored by the lower end of its 95% interval, so 1 pass in 1
# sample (0.21) ranks below 80 in 100 (0.71).
_WILSON_Z = 1.96


class ProfileError(PerfOrchError):
    """A profile that cannot be found or read; the message names the file and the problem."""


@dataclass(frozen=True)
class RankedModel:
    model: str
    score: float
    samples: int = 0
    source_name: str = ""  # the model's name as a published source prints it, when it came from one
    rate: float | None = None  # a profiled score's observed success rate (the score is its smoothed form)
    tokens: float | None = None  # mean tokens per attempt (prompt + answer), where measured
    cost_usd: float | None = None  # mean dollars per attempt, where measured and priced (None: unknown)

    @property
    def chance(self) -> float:
        """The chance an attempt succeeds: the observed rate where there is one, else the score."""
        return self.rate if self.rate is not None else self.score

    @classmethod
    def profiled(cls, model: str, hits: int, samples: int) -> RankedModel:
        """A measured rate, scored by its Wilson lower bound so that few samples cannot outrank many."""
        rate = hits / samples if samples else 0.0
        return cls(model, round(wilson_lower_bound(rate, samples), 4), samples, rate=round(rate, 4))


def wilson_lower_bound(rate: float, samples: int, z: float = _WILSON_Z) -> float:
    """The lower end of the Wilson score interval of a success rate observed over `samples` trials."""
    if samples <= 0:
        return 0.0
    rate = min(max(rate, 0.0), 1.0)
    spread = z * math.sqrt(rate * (1 - rate) / samples + z * z / (4 * samples * samples))
    return max(0.0, (rate + z * z / (2 * samples) - spread) / (1 + z * z / samples))


@dataclass(frozen=True)
class Provenance:
    benchmark: str = ""
    date: str = ""
    models: tuple[str, ...] = ()
    metric: str = ""
    command: str = ""
    notes: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()  # models a source ranks that the profile leaves out, each with the reason


@dataclass(frozen=True)
class CellProvenance:
    """Where one cell's ranking comes from."""

    source: str = ""
    table: str = ""
    metric: str = ""
    date: str = ""
    url: str = ""


Cell = tuple[str, str, str]  # (stage, language, category)


def canonical_model(name: str, ids: Mapping[str, str] | None = None) -> str:
    """The litellm id a name stands for (an alias resolved through `ids`), without litellm's default
    `openai/` prefix, so that `gpt-4o` and `openai/gpt-4o` are the same model."""
    model = (ids or {}).get(name, name)
    return model.removeprefix("openai/")


@dataclass
class RankingMatrix:
    cells: dict[Cell, list[RankedModel]] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)
    sources: dict[Cell, CellProvenance] = field(default_factory=dict)

    def set(
        self,
        stage: str,
        language: str,
        category: str,
        ranking: list[RankedModel],
        provenance: CellProvenance | None = None,
    ) -> None:
        # Stable: a tie keeps the order written; `ranked` breaks it by the language row and the fallbacks.
        ordered = sorted(ranking, key=lambda r: -r.score)
        key = (stage, language, category or ANY_CATEGORY)
        self.cells[key] = ordered
        if provenance is not None:
            self.sources[key] = provenance

    def cell(self, stage: str, language: str, category: str = ANY_CATEGORY) -> list[RankedModel]:
        return self.cells.get((stage, language, category or ANY_CATEGORY), [])

    def provenance_of(self, cell: Cell) -> CellProvenance:
        """The cell's own provenance, or the matrix's when the cell has none (a profiled matrix)."""
        if cell in self.sources:
            return self.sources[cell]
        p = self.provenance
        return CellProvenance(source=p.benchmark, metric=p.metric, date=p.date)

    def ranked(
        self,
        stage: str,
        language: str,
        category: str = ANY_CATEGORY,
        *,
        default_order: Iterable[str] = (),
        available: Iterable[str] | None = None,
        ids: Mapping[str, str] | None = None,
        min_samples: int = MIN_SAMPLES,
    ) -> list[str]:
        """Models to try, best first: the category cell, the language row, the same two of the stage's
        fallback stage (STAGE_FALLBACK), then the default order.

        Later sources only append models not yet listed, so a thin cell still falls back down a full ranking.
        Within a source models go by score; a tie goes to the order of the sources after it
        (the language row, the fallback stage, the default order), never to the alphabet. A category cell's
        entry with fewer than `min_samples` samples is not used: the language row places that model.
        `available` restricts the result to the models the user can reach, named as the user names them:
        `ids` maps the user's aliases to litellm ids, so a cell's `gpt-4o` comes out as the alias `fast`
        whose model is `openai/gpt-4o`.
        """
        default_order = list(default_order)
        order = _merged(self.sources_of(stage, language, category, min_samples), default_order)
        if available is None:
            return order
        available = set(available)
        # The user's names in the user's order, so two aliases of one litellm id come out as configured.
        names = [n for n in default_order if n in available] + sorted(available - set(default_order))
        return _as_available(order, names, ids)

    def sources_of(
        self, stage: str, language: str, category: str = ANY_CATEGORY, min_samples: int = MIN_SAMPLES
    ) -> list[tuple[Cell, list[RankedModel]]]:
        """The cells `ranked` reads for a cell, in order, each with the entries it uses."""
        stages = [stage, STAGE_FALLBACK[stage]] if stage in STAGE_FALLBACK else [stage]
        categories = [category, ANY_CATEGORY] if category and category != ANY_CATEGORY else [ANY_CATEGORY]
        sources = []
        for stage_ in stages:
            for category_ in categories:
                entries = self.cell(stage_, language, category_)
                if category_ != ANY_CATEGORY:
                    entries = [r for r in entries if r.samples == 0 or r.samples >= min_samples]
                sources.append(((stage_, language, category_), entries))
        return sources

    def merged_over(self, base: RankingMatrix) -> RankingMatrix:
        """This matrix's cells over `base`'s: used to lay a user's profile over a shipped one.

        Every cell keeps the provenance it came with; the matrix's notes are both matrices' notes."""
        cells = dict(base.cells)
        cells.update(self.cells)
        sources = {cell: base.provenance_of(cell) for cell in base.cells}
        sources.update({cell: self.provenance_of(cell) for cell in self.cells})
        provenance = replace(
            self.provenance,
            notes=_unique(self.provenance.notes + base.provenance.notes),
            dropped=_unique(self.provenance.dropped + base.provenance.dropped),
        )
        return RankingMatrix(cells=cells, provenance=provenance, sources=sources)

    def models(self) -> list[str]:
        """Every model some cell ranks, in first-seen order."""
        return list(dict.fromkeys(r.model for ranking in self.cells.values() for r in ranking))

    def languages(self) -> list[str]:
        return [lang for lang in LANGUAGES if any(c[1] == lang for c in self.cells)]

    def to_toml(self) -> str:
        p = self.provenance
        provenance: dict = {
            "benchmark": p.benchmark,
            "date": p.date,
            "models": list(p.models),
            "metric": p.metric,
            "command": p.command,
        }
        provenance.update({key: list(value) for key, value in (("notes", p.notes), ("dropped", p.dropped)) if value})
        doc: dict = {"provenance": provenance, "cells": [self._cell_table(cell) for cell in sorted(self.cells)]}
        return tomli_w.dumps(doc)

    def _cell_table(self, cell: Cell) -> dict:
        stage, language, category = cell
        table: dict = {
            "stage": stage,
            "language": language,
            "category": category,
            "ranking": [_entry_table(r) for r in self.cells[cell]],
        }
        if cell in self.sources:
            table["provenance"] = {k: v for k, v in vars(self.sources[cell]).items() if v}
        return table

    @classmethod
    def from_toml(cls, text: str, origin: str = "<string>") -> RankingMatrix:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"{origin}: not valid TOML: {exc}") from exc
        matrix = cls(provenance=_provenance(doc.get("provenance", {}), origin))
        for i, cell in enumerate(doc.get("cells", [])):
            where = f"{origin}: cells[{i}]"
            stage, language, category, ranking = _cell(cell, where)
            matrix.set(stage, language, category, ranking, _cell_provenance(cell.get("provenance"), where))
        return matrix


def _merged(sources: list[tuple[Cell, list[RankedModel]]], default_order: list[str]) -> list[str]:
    """The first source's models by confidence, a tie broken by the order of the sources after it; then those."""
    if not sources:
        return list(dict.fromkeys(default_order))
    rest = _merged(sources[1:], default_order)
    place = {model: n for n, model in enumerate(rest)}
    written = sources[0][1]
    head = sorted(written, key=lambda r: (-r.score, place.get(r.model, len(rest)), written.index(r)))
    return list(dict.fromkeys([r.model for r in head] + rest))


def _entry_table(r: RankedModel) -> dict:
    entry: dict = {"model": r.model, "score": r.score, "samples": r.samples}
    if r.source_name:
        entry["source_name"] = r.source_name
    for key in ("rate", "tokens", "cost_usd"):
        if getattr(r, key) is not None:
            entry[key] = getattr(r, key)
    return entry


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _as_available(order: list[str], names: list[str], ids: Mapping[str, str] | None) -> list[str]:
    """`order` (litellm ids or aliases) as the user's `names` for them, leaving out models the user lacks."""
    names_by_model: dict[str, list[str]] = {}
    for name in names:
        names_by_model.setdefault(canonical_model(name, ids), []).append(name)
    result: list[str] = []
    for model in order:
        for name in names_by_model.get(canonical_model(model, ids), []):
            if name not in result:
                result.append(name)
    return result


def _provenance(table: dict, origin: str) -> Provenance:
    if not isinstance(table, dict):
        raise ProfileError(f"{origin}: [provenance] must be a table")
    return Provenance(
        benchmark=str(table.get("benchmark", "")),
        date=str(table.get("date", "")),
        models=tuple(str(m) for m in table.get("models", [])),
        metric=str(table.get("metric", "")),
        command=str(table.get("command", "")),
        notes=tuple(str(n) for n in table.get("notes", [])),
        dropped=tuple(str(d) for d in table.get("dropped", [])),
    )


def _cell_provenance(table: object, where: str) -> CellProvenance | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ProfileError(f"{where}.provenance: expected a table with source, table, metric, date, url")
    known = {f.name for f in fields(CellProvenance)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ProfileError(f"{where}.provenance: unknown keys {', '.join(unknown)}; expected {', '.join(known)}")
    return CellProvenance(**{key: str(value) for key, value in table.items()})


def _cell(cell: dict, where: str) -> tuple[str, str, str, list[RankedModel]]:
    stage, language = cell.get("stage"), cell.get("language")
    if stage not in STAGES:
        raise ProfileError(f"{where}.stage: expected one of {', '.join(STAGES)}, got {stage!r}")
    if language not in LANGUAGES:
        raise ProfileError(f"{where}.language: expected one of {', '.join(LANGUAGES)}, got {language!r}")
    ranking = []
    for j, entry in enumerate(cell.get("ranking", [])):
        try:
            model, score = str(entry["model"]), float(entry["score"])
            samples, source_name = int(entry.get("samples", 0)), str(entry.get("source_name", ""))
            rate, tokens, cost = (float(entry[key]) if key in entry else None for key in ("rate", "tokens", "cost_usd"))
            ranking.append(RankedModel(model, score, samples, source_name, rate, tokens, cost))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"{where}.ranking[{j}]: expected {{model, score, samples}}: {exc}") from exc
    return stage, language, str(cell.get("category", ANY_CATEGORY)), ranking
