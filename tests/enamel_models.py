"""Scripted models for ENAMEL eval tests: each writes HumanEvalPack's canonical Python solution, and, asked to
refine, answers in its own way:
- `expert` with ENAMEL's expert reference solution;
- `renamer` with the same code, the function's first parameter renamed;
- `slower` with the same code plus useless work at the top of the body.
Every refine prompt seen is kept (`refine_prompts`), so a test can read what the model was told.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
ENAMEL = SHARED / "enamel"
EXPERT, RENAMER, SLOWER = "expert", "renamer", "slower"
_SLOW_LINE = "    _scripted_waste = [sorted(range(3000), key=lambda v: -v) for _ in range(5)]\n"


def enamel_rows() -> dict[str, dict]:
    csv.field_size_limit(1 << 30)
    with gzip.open(ENAMEL / "enamel.csv.gz", "rt", encoding="utf-8", newline="") as rows:
        return {row["task_id"]: row for row in csv.DictReader(rows)}


def python_rows() -> dict[str, dict]:
    with gzip.open(SHARED / "humanevalpack" / "python.jsonl.gz", "rt", encoding="utf-8") as lines:
        return {row["task_id"].replace("Python/", "HumanEval/"): row for row in map(json.loads, lines)}


class EnamelModels:
    def __init__(self) -> None:
        self.enamel, self.python = enamel_rows(), python_rows()
        self.refine_prompts: list[str] = []

    def __call__(self, model: str, messages: list[dict]) -> str:
        system, user = messages[0]["content"], messages[-1]["content"]
        if "classify" in system:
            return "array"
        task_id, row = next((t, r) for t, r in self.python.items() if r["prompt"].strip() in user)
        canonical = row["prompt"] + row["canonical_solution"]
        if "performance" not in system:
            return _fenced(canonical)
        self.refine_prompts.append(user)
        if model == EXPERT:
            return _fenced(self.enamel[task_id]["prompt"] + "\n" + self.enamel[task_id]["reference_solution"])
        if model == RENAMER:
            first = re.search(r"def \w+\((\w+)", row["prompt"]).group(1)
            return _fenced(re.sub(rf"\b{first}\b", f"{first}_renamed", canonical))
        return _fenced(row["prompt"] + _SLOW_LINE + row["canonical_solution"])


def _fenced(code: str) -> str:
    return f"Here you go:\n```python\n{code}\n```\n"
