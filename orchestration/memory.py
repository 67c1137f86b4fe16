"""The ranking matrix: (stage, language, category) -> models ranked best first, with scores and samples.

Profiles are TOML files with provenance. Shipped ones live in the `perforch.profiles` package; a user's own
(from `perforch profile`) live in the platformdirs data dir and override shipped cells of the same name.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import platformdirs
import tomli_w

from .task import LANGUAGES, STAGES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ANY_CATEGORY = "*"  # the language's overall row


class ProfileError(ValueError):
    """A profile that cannot be found or read; the message names the file and the problem."""


@dataclass(frozen=True)
class RankedModel:
    model: str
    score: float
    samples: int = 0


@dataclass(frozen=True)
class Provenance:
    benchmark: str = ""
    date: str = ""
    models: tuple[str, ...] = ()
    metric: str = ""
    command: str = ""


Cell = tuple[str, str, str]  # (stage, language, category)


@dataclass
class RankingMatrix:
    cells: dict[Cell, list[RankedModel]] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)

    def set(self, stage: str, language: str, category: str, ranking: list[RankedModel]) -> None:
        ordered = sorted(ranking, key=lambda r: (-r.score, -r.samples, r.model))
        self.cells[(stage, language, category or ANY_CATEGORY)] = ordered

    def cell(self, stage: str, language: str, category: str = ANY_CATEGORY) -> list[RankedModel]:
        return self.cells.get((stage, language, category or ANY_CATEGORY), [])

    def ranked(
        self,
        stage: str,
        language: str,
        category: str = ANY_CATEGORY,
        *,
        default_order: list[str] = (),
        available: set[str] | None = None,
    ) -> list[str]:
        """Models to try, best first: the category cell, then the language row, then the default order.

        Later sources only append models not yet listed, so a thin cell still falls back down a full ranking.
        `available` restricts the result to the models the user can reach.
        """
        order: list[str] = []
        sources = [
            [r.model for r in self.cell(stage, language, category)],
            [r.model for r in self.cell(stage, language, ANY_CATEGORY)],
            list(default_order),
        ]
        for source in sources:
            order.extend(m for m in source if m not in order)
        if available is not None:
            order = [m for m in order if m in available]
        return order

    def merged_over(self, base: RankingMatrix) -> RankingMatrix:
        """This matrix's cells over `base`'s: used to lay a user's profile over a shipped one."""
        cells = dict(base.cells)
        cells.update(self.cells)
        return RankingMatrix(cells=cells, provenance=self.provenance)

    def languages(self) -> list[str]:
        return [lang for lang in LANGUAGES if any(c[1] == lang for c in self.cells)]

    def to_toml(self) -> str:
        p = self.provenance
        doc: dict = {
            "provenance": {
                "benchmark": p.benchmark,
                "date": p.date,
                "models": list(p.models),
                "metric": p.metric,
                "command": p.command,
            },
            "cells": [
                {
                    "stage": stage,
                    "language": language,
                    "category": category,
                    "ranking": [{"model": r.model, "score": r.score, "samples": r.samples} for r in ranking],
                }
                for (stage, language, category), ranking in sorted(self.cells.items())
            ],
        }
        return tomli_w.dumps(doc)

    @classmethod
    def from_toml(cls, text: str, origin: str = "<string>") -> RankingMatrix:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"{origin}: not valid TOML: {exc}") from exc
        matrix = cls(provenance=_provenance(doc.get("provenance", {}), origin))
        for i, cell in enumerate(doc.get("cells", [])):
            stage, language, category, ranking = _cell(cell, f"{origin}: cells[{i}]")
            matrix.set(stage, language, category, ranking)
        return matrix


def _provenance(table: dict, origin: str) -> Provenance:
    if not isinstance(table, dict):
        raise ProfileError(f"{origin}: [provenance] must be a table")
    return Provenance(
        benchmark=str(table.get("benchmark", "")),
        date=str(table.get("date", "")),
        models=tuple(str(m) for m in table.get("models", [])),
        metric=str(table.get("metric", "")),
        command=str(table.get("command", "")),
    )


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
            ranking.append(RankedModel(model, score, int(entry.get("samples", 0))))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"{where}.ranking[{j}]: expected {{model, score, samples}}: {exc}") from exc
    return stage, language, str(cell.get("category", ANY_CATEGORY)), ranking


def user_profiles_dir() -> Path:
    override = os.environ.get("PERFORCH_DATA_DIR")
    base = Path(override) if override else Path(platformdirs.user_data_dir("perforch"))
    return base / "profiles"


def shipped_profile_names() -> list[str]:
    return sorted(
        p.name[: -len(".toml")] for p in resources.files("perforch.profiles").iterdir() if p.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path) -> RankingMatrix:
    """A profile by file path, or by name: the user's profile of that name laid over the shipped one."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ProfileError(f"{path}: profile file not found")
        return RankingMatrix.from_toml(path.read_text(encoding="utf-8"), str(path))
    name = str(name_or_path)
    shipped_file = resources.files("perforch.profiles") / f"{name}.toml"
    user_file = user_profiles_dir() / f"{name}.toml"
    shipped = _read(shipped_file, name) if shipped_file.is_file() else None
    user = _read(user_file, str(user_file)) if user_file.is_file() else None
    if shipped is None and user is None:
        known = ", ".join(shipped_profile_names()) or "none"
        raise ProfileError(
            f"profile {name!r} not found: not a file, not a shipped profile ({known}), not in {user_profiles_dir()}"
        )
    if shipped and user:
        return user.merged_over(shipped)
    return user or shipped


def _read(file, origin: str) -> RankingMatrix:
    return RankingMatrix.from_toml(file.read_text(encoding="utf-8"), origin)


def save_user_profile(name: str, matrix: RankingMatrix) -> Path:
    target = user_profiles_dir() / f"{name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(matrix.to_toml(), encoding="utf-8")
    return target
