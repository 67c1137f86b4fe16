"""`perforch eval` on EffiBench-X: the pipeline run on each (problem, language), then scored on every test.

A unit is one problem in one language. Models see the problem's prompt (description, starter code, the first
tests as examples) and the debugger the failures on those visible tests only (EffiBenchValidator). The final
version is then run on all the problem's tests, and right after it, on this machine, the canonical solution in
that language (Rust: C++'s where the record has none in Rust, as the real data never has); efficiency =
min(1, canonical / candidate) CPU seconds, 0 for a failure, as upstream averages it. A unit's record is all
the report needs, so a results store can be resumed or reported on again (`--from-results`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..pipeline import Pipeline
from ..profiling import run_units
from ..results import ResultsStore
from ..task import Task
from .effibench import DATA_KEYS, EffiProblem, efficiency, run_solution
from .effibench_validator import EffiBenchValidator

BENCHMARK = "effibench-x"
PAPER_PASS_AT_1 = 0.9583  # the PerfOrch paper's pass@1 on EffiBench-X (arXiv 2510.01379)
NOTE = (
    "models saw the description, the starter code and the first 3 tests; the debugger saw failures on those only; "
    "pass@1 and efficiency are scored on all tests; efficiency = min(1, canonical / candidate) CPU seconds of "
    "the test loop, the canonical solution run on this machine right after the candidate (Rust: C++'s where the "
    "record has no Rust solution)"
)


@dataclass(frozen=True)
class EffiUnit:
    """One problem in one language: what the pipeline runs and the results store keys."""

    problem: EffiProblem
    language: str

    @property
    def task_id(self) -> str:
        return f"{self.problem.task_id}/{self.language}"

    @property
    def reference_language(self) -> str | None:
        """Whose canonical solution this language is compared with (its own; Rust: C++'s)."""
        for language in (self.language, "cpp"):
            if language in self.problem.solutions:
                return language
        return None

    def task(self) -> Task:
        return Task(
            language=self.language,
            entry_point="solution",
            source=self.problem.starter_code.get(self.language, ""),
            visible_test="",  # the visible tests are the prompt's examples
            task_id=self.task_id,
            statement=self.problem.prompt(self.language),
        )


def effibench_units(problems: list[EffiProblem], languages: list[str]) -> tuple[list[EffiUnit], dict[str, str]]:
    """The units to run, language by language, and those left out with the reason (a functional problem
    is run only in the languages whose runner the data has)."""
    units, left_out = [], {}
    for language in languages:
        for problem in problems:
            unit = EffiUnit(problem, language)
            if problem.kind == "functional" and language not in problem.runners:
                where = f"test_runners.{DATA_KEYS[language]}"
                left_out[unit.task_id] = f"the data has no {language} runner for this functional problem ({where})"
            else:
                units.append(unit)
    return units, left_out


async def evaluate_unit(unit: EffiUnit, pipeline: Pipeline) -> dict:
    """One unit through the pipeline, then its final version and the canonical solution on every test."""
    result = await pipeline.run(unit.task(), EffiBenchValidator(unit.problem, unit.language))
    record = {
        "benchmark": BENCHMARK,
        "task_id": unit.task_id,
        "language": unit.language,
        "kind": unit.problem.kind,
        "solved": False,
        "efficiency": None,
        "cpu_seconds": None,
        "canonical": unit.reference_language,
        "canonical_cpu_seconds": None,
        "speedup": result.speedup,
        "tokens": result.tokens,
        "cost_usd": result.cost_usd,
        "unpriced_calls": result.unpriced_calls,
        "tokens_per_stage": result.tokens_by_stage,
        "detail": "",
    }
    final = await run_solution(unit.problem, unit.language, result.source) if result.source is not None else None
    if final is not None:
        record.update(solved=final.passed, cpu_seconds=final.cpu_seconds if final.passed else None)
        record["detail"] = "" if final.passed else f"{final.outcome.value}: {final.detail[:500]}"
    else:
        record["detail"] = "no version to score (no model gave usable code)"
    reference = unit.reference_language
    if reference is not None:
        canonical = await run_solution(unit.problem, reference, unit.problem.solutions[reference])
        if canonical.passed:
            record["canonical_cpu_seconds"] = canonical.cpu_seconds
            record["efficiency"] = efficiency(canonical, final) if final is not None else 0.0
    return record


@dataclass
class EffiLanguage:
    records: list[dict] = field(default_factory=list)

    def as_dict(self, left_out: list[str]) -> dict:
        solved = [r for r in self.records if r["solved"]]
        speedups = [r["speedup"] for r in solved if r["speedup"] and r["speedup"] > 1.0]
        scored = [r["efficiency"] for r in self.records if r["efficiency"] is not None]
        tokens: dict[str, int] = defaultdict(int)
        for record in self.records:
            for stage, count in record["tokens_per_stage"].items():
                tokens[stage] += count
        return {
            "total": len(self.records),
            "solved": len(solved),
            "pass@1": _share(len(solved), len(self.records)),
            "efficiency": round(statistics.fmean(scored), 4) if scored else None,
            "efficiency_problems": len(scored),  # those whose canonical solution passed here
            "improved": len(speedups),  # solved with a refinement kept (measurably faster on the visible tests)
            "median_speedup": round(statistics.median(speedups), 3) if speedups else None,
            "tokens_per_stage": dict(tokens),
            "tokens": sum(r["tokens"] for r in self.records),
            "cost_usd": round(sum(r["cost_usd"] for r in self.records), 6),
            "unpriced_calls": sum(r.get("unpriced_calls", 0) for r in self.records),
            "unsolved": {r["task_id"]: r["detail"] for r in self.records if not r["solved"]},
            "left_out": left_out,
        }


@dataclass
class EffiBenchReport:
    records: list[dict]
    mode: str
    left_out: dict[str, str] = field(default_factory=dict)  # task id -> why it was not run

    def as_dict(self) -> dict:
        languages: dict[str, EffiLanguage] = defaultdict(EffiLanguage)
        for record in self.records:
            languages[record["language"]].records.append(record)
        solved = sum(r["solved"] for r in self.records)
        return {
            "mode": self.mode,
            "benchmark": BENCHMARK,
            "languages": {
                language: score.as_dict([t for t in self.left_out if t.endswith(f"/{language}")])
                for language, score in languages.items()
            },
            "pass@1": _share(solved, len(self.records)),
            "paper": {"pass@1": PAPER_PASS_AT_1},
            "left_out": self.left_out,
            "tokens": sum(r["tokens"] for r in self.records),
            "cost_usd": round(sum(r["cost_usd"] for r in self.records), 6),
            "note": NOTE,
        }


def is_effibench_record(record: dict) -> bool:
    return record.get("benchmark") == BENCHMARK


async def evaluate_effibench(
    units: list[EffiUnit],
    pipeline: Pipeline,
    mode: str,
    store: ResultsStore,
    on_record: Callable[[dict], None] | None = None,
    in_flight: int = 8,
    left_out: dict[str, str] | None = None,
) -> EffiBenchReport:
    """Run the units the store has no record of, then report on all of them."""
    records = await run_units(units, lambda unit: evaluate_unit(unit, pipeline), store, on_record, in_flight)
    return EffiBenchReport(records, mode, left_out or {})


def effibench_report(records: Iterable[dict], mode: str) -> EffiBenchReport:
    return EffiBenchReport(list(records), mode)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
