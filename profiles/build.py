"""Build the shipped default profile from published per-language results.

    python -m perforch.profiles.build [DATA_DIR] [--out FILE]

DATA_DIR holds the CSVs described in shared/profiles-data/README.md (default: ../shared/profiles-data beside
the repository). The script lives beside the profile it writes, so the provenance of a shipped file is one
folder away from it and stays inside the `profiles/` folder of the design card.

Rules (issue 7):
- one source per stage, so models are only ever compared within one source and one language:
  generate <- AutoCodeBench Table 4 (the most current), debug <- MdEval's repair (APR) leaderboard;
- every cell carries its provenance (source, table, metric, date, url);
- only litellm ids found in litellm's own model list are kept; every dropped model is listed with why;
- refine and categorize get no cells (nothing per language is published) and category cells stay empty.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType

from perforch.orchestration.languages import LANGUAGES
from perforch.orchestration.rankings.matrix import CellProvenance, Provenance, RankedModel, RankingMatrix
from perforch.orchestration.task import ANY_CATEGORY

HEADER = "# Built by `python -m perforch.profiles.build` from shared/profiles-data; do not edit by hand.\n"


@dataclass(frozen=True)
class Source:
    """One CSV of shared/profiles-data and what its README says that the CSV itself does not."""

    stage: str
    file: str
    date: str  # when the results were published
    problems: Mapping[str, int]  # problems per language, where the source states the count


SOURCES = (
    # AutoCodeBench, arXiv 2508.09101 (Aug 2025); counts from the table's count row, per the data README.
    Source(
        "generate",
        "autocodebench_table4.csv",
        "2025-08",
        {"python": 196, "cpp": 186, "java": 188, "go": 191, "rust": 199},
    ),
    # MdEval APR leaderboard, data file of Feb 2025; the README gives only "about 65 problems per language".
    Source("debug", "mdeval_leaderboard_apr.csv", "2025-02", {}),
)

NOTES = (
    "generate: AutoCodeBench Table 4 only, the most current source; models are compared only within one "
    "source and one language (absolute values differ in meaning between languages).",
    "debug: MdEval automated program repair only; it ranks fewer (and older) models, so a model it does not "
    "rank falls back to the language's generate order.",
    "refine: no per-language efficiency figures are published (EffiBench-X's tables were not available; "
    "other efficiency benchmarks are Python-only), so refine has no cells and falls back to the language's "
    "generate order until profiling or use fills it.",
    "categorize: nothing is published; the configured model order ([pipeline].models) applies.",
    "category cells are empty: the sources publish per language only; the language row applies until the "
    "user's profiling or use fills them.",
    "a score belongs to the snapshot named in source_name; undated ids (deepseek/deepseek-chat, "
    "deepseek/deepseek-reasoner, gemini/gemini-2.5-pro, gemini/gemini-2.5-flash) are moving aliases that "
    "serve whatever the vendor serves today.",
    "scores are pass@1 as fractions (the sources print percent); samples is the source's problem count for "
    "the language, 0 where the source does not state it.",
    "not used: McEval, the MultiPL-E tables (Qwen2.5-Coder, Llama 3), DeepSeek-Coder-V2's HumanEval table and "
    "HumanEvalPack: older models and other harnesses, whose numbers are not comparable with the sources used.",
)


@dataclass(frozen=True)
class Row:
    model: str  # as the source prints it
    litellm_id: str
    language: str
    percent: float
    benchmark: str
    url: str
    table: str


class BuildError(ValueError):
    """The data directory does not hold what the build expects."""


def read_rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Row(
                model=r["model"],
                litellm_id=r["litellm_id_guess"].strip(),
                language=r["language"],
                percent=float(r["value"]),
                benchmark=r["benchmark"],
                url=r["source_url"],
                table=r["source_table"],
            )
            for r in csv.DictReader(handle)
            if r["metric"] == "pass@1" and r["language"] in LANGUAGES
        ]


def litellm_module() -> ModuleType:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm's own copy, not the network's
    import litellm  # lazily: it takes seconds

    return litellm


def known_to_litellm(litellm: ModuleType, model_id: str) -> bool:
    """Whether litellm's model list names the id: as a key of its price map, or under its provider
    (which lists Anthropic's models without the prefix and Gemini's with it)."""
    if model_id in litellm.model_cost:
        return True
    provider, _, name = model_id.partition("/")
    listed = litellm.models_by_provider.get(provider, ())
    return bool(name) and (name in listed or model_id in listed)


def _why_dropped(row: Row, litellm: ModuleType, version: str) -> str | None:
    if not row.litellm_id:
        return "the data gives no litellm id (retired snapshot, provider litellm does not name, or research checkpoint)"
    if not known_to_litellm(litellm, row.litellm_id):
        return f"{row.litellm_id} is not in litellm {version}'s model list"
    return None


def _one_row_per_id(rows: list[Row]) -> tuple[list[Row], list[tuple[Row, str]]]:
    """Where one id has several rows in a language (modes chosen by request parameters), keep the
    non-reasoning row: PerfOrch sends no thinking parameters, so that is the mode a request gets."""
    kept: dict[tuple[str, str], Row] = {}
    dropped: list[tuple[Row, str]] = []
    for row in sorted(rows, key=lambda r: "[non-reasoning mode]" not in r.model):
        key = (row.litellm_id, row.language)
        if key in kept:
            dropped.append((row, f"same litellm id as {kept[key].model}, the mode a plain request gets"))
        else:
            kept[key] = row
    return list(kept.values()), dropped


def add_source(matrix: RankingMatrix, source: Source, rows: list[Row], litellm: ModuleType) -> list[str]:
    """Add the source's language rows to the matrix; return why each model left out was left out."""
    version = metadata.version("litellm")
    reasons: dict[str, str] = {}
    usable = []
    for row in rows:
        why = _why_dropped(row, litellm, version)
        if why:
            reasons.setdefault(row.model, why)
        else:
            usable.append(row)
    usable, twins = _one_row_per_id(usable)
    for row, why in twins:
        reasons.setdefault(row.model, why)
    for language in LANGUAGES:
        cell_rows = [r for r in usable if r.language == language]
        if cell_rows:
            ranking, provenance = _ranking(cell_rows, source), _provenance(cell_rows, source)
            matrix.set(source.stage, language, ANY_CATEGORY, ranking, provenance)
    name = rows[0].benchmark.split(" (")[0] if rows else source.file
    return [f"{name}: {model}: {why}" for model, why in reasons.items()]


def _ranking(rows: list[Row], source: Source) -> list[RankedModel]:
    return [
        RankedModel(r.litellm_id, round(r.percent / 100, 4), source.problems.get(r.language, 0), r.model) for r in rows
    ]


def _provenance(rows: list[Row], source: Source) -> CellProvenance:
    described = {(r.benchmark, r.table, r.url) for r in rows}
    if len(described) != 1:
        raise BuildError(f"{source.file}: rows of one language cite different sources: {sorted(described)}")
    benchmark, table, url = described.pop()
    return CellProvenance(source=benchmark, table=table, metric="pass@1 (fraction)", date=source.date, url=url)


def collected_on(data_dir: Path) -> str:
    readme = data_dir / "README.md"
    found = re.search(r"Collected (\d{4}-\d{2}-\d{2})", readme.read_text(encoding="utf-8"))
    if not found:
        raise BuildError(f"{readme}: no 'Collected YYYY-MM-DD' line")
    return found.group(1)


def build(data_dir: Path, litellm: ModuleType | None = None) -> RankingMatrix:
    litellm = litellm or litellm_module()
    matrix = RankingMatrix()
    dropped: list[str] = []
    for source in SOURCES:
        path = data_dir / source.file
        if not path.is_file():
            raise BuildError(f"{path}: not found (expected the CSVs of shared/profiles-data)")
        dropped += add_source(matrix, source, read_rows(path), litellm)
    models = sorted({r.model for ranking in matrix.cells.values() for r in ranking})
    matrix.provenance = Provenance(
        benchmark="published results: AutoCodeBench Table 4 (generate), MdEval APR leaderboard (debug)",
        date=collected_on(data_dir),
        models=tuple(models),
        metric="pass@1 as a fraction, per source and language (see each cell's provenance)",
        command=f"python -m perforch.profiles.build {data_dir.parent.name}/{data_dir.name}",
        notes=(*NOTES, f"litellm ids checked against litellm {metadata.version('litellm')}'s model list."),
        dropped=tuple(dropped),
    )
    return matrix


def profile_text(matrix: RankingMatrix) -> str:
    return HEADER + matrix.to_toml()


def _default_data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "shared" / "profiles-data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perforch.profiles.build", description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=_default_data_dir())
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("default.toml"))
    args = parser.parse_args(argv)
    try:
        matrix = build(args.data_dir)
    except (BuildError, OSError, KeyError, ValueError) as exc:
        print(f"build: error: {exc}", file=sys.stderr)
        return 2
    args.out.write_text(profile_text(matrix), encoding="utf-8")
    kept = len(matrix.provenance.models)
    print(f"wrote {args.out}: {len(matrix.cells)} cells, {kept} models kept, {len(matrix.provenance.dropped)} dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
