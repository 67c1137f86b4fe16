"""ENAMEL's efficiency problems (../shared/benchmarks/enamel) joined with HumanEvalPack by task id.

ENAMEL gives, per HumanEval problem, an input generator, four size levels, an expert reference solution and
a checker, all Python; HumanEvalPack gives the same problem's prompt, tests and canonical solution in every
language. The data is read where it lies, never copied.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..benchmark import BenchmarkError, Problem, load_benchmark

# Upstream's set: the 164 minus these 22, "too trivial to have an efficiency difference" (its README).
LEFT_OUT = frozenset(
    {2, 23, 41, 45, 53, 60, 71, 92, 97, 99, 102, 123, 124, 135, 137, 138, 144, 148, 156, 157, 159, 160}
)
TESTS_PER_LEVEL = (8, 4, 4, 4)  # upstream's defaults; level 0 checks correctness only
EFFICIENCY_LEVELS = (1, 2, 3)
ENAMEL_FILE = "enamel.csv.gz"


@dataclass(frozen=True)
class EnamelProblem:
    number: int  # N of HumanEval/N
    entry_point: str
    prompt: str  # ENAMEL's Python prompt (HumanEval's)
    input_generator: str
    levels: tuple[int, ...]  # the size of each level
    reference_solution: str  # the expert's function body
    checker: str  # `__check(input, answer, output) -> bool`

    @property
    def task_id(self) -> str:
        return f"HumanEval/{self.number}"

    @property
    def reference_source(self) -> str:
        return f"{self.prompt}\n{self.reference_solution}"

    def fingerprint(self) -> str:
        """Changes when anything that makes the inputs changes (a cache key)."""
        parts = (self.prompt, self.input_generator, " ".join(map(str, self.levels)), self.reference_solution)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def is_enamel(directory: Path) -> bool:
    return (Path(directory) / ENAMEL_FILE).is_file() and (Path(directory) / "datautils.py").is_file()


def load_enamel(directory: Path, numbers: list[int] | None = None) -> list[EnamelProblem]:
    """ENAMEL's 142 problems (or those of `numbers`), in task order."""
    path = Path(directory) / ENAMEL_FILE
    if not path.is_file():
        raise BenchmarkError(f"{path}: not found (an ENAMEL directory holds enamel.csv.gz and datautils.py)")
    csv.field_size_limit(1 << 30)
    problems = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            number = int(row["task_id"].split("/")[1])
            if number in LEFT_OUT or (numbers is not None and number not in numbers):
                continue
            problems.append(
                EnamelProblem(
                    number=number,
                    entry_point=row["entry_point"],
                    prompt=row["prompt"],
                    input_generator=row["input_generator"],
                    levels=tuple(int(size) for size in row["input_levels"].split()),
                    reference_solution=row["reference_solution"],
                    checker=row["checker"],
                )
            )
    return problems


def humanevalpack_dir(enamel_dir: Path) -> Path:
    """HumanEvalPack next to ENAMEL (shared/benchmarks/humanevalpack), where the prompts of every language are."""
    sibling = Path(enamel_dir).resolve().parent / "humanevalpack"
    if not (sibling / "python.jsonl.gz").is_file():
        raise BenchmarkError(
            f"{sibling}: HumanEvalPack not found; ENAMEL's problems are joined with it by task id, so it must "
            "sit next to the ENAMEL directory"
        )
    return sibling


def joined(enamel_dir: Path, languages: list[str], limit: int | None = None) -> list[tuple[EnamelProblem, Problem]]:
    """(ENAMEL problem, HumanEvalPack problem) pairs for every language, ENAMEL's set only; `limit` keeps the
    first N problems of each language."""
    enamel = {p.number: p for p in load_enamel(enamel_dir)}
    pairs = []
    for language in languages:
        count = 0
        for problem in load_benchmark(humanevalpack_dir(enamel_dir), [language]):
            number = int(problem.task_id.split("/")[1])
            if number in enamel and (limit is None or count < limit):
                pairs.append((enamel[number], problem))
                count += 1
    return pairs
