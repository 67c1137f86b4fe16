"""Every problem's visible test made from the Python examples (visible_examples.py), run against the
language's canonical solution: prints per language how many were generated, how many the canonical
solution passes, and the rest with the failure (a canonical solution that disagrees with the Python
example is a dataset finding: list it in benchmark.EXAMPLES_DISAGREE so the substitute stands in).

    python3 benchmarks/visible_examples.py [--languages rust] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import time
from pathlib import Path

from perforch.orchestration.benchmark import load_benchmark
from perforch.orchestration.checking import close_all, get_toolchain, prepare_all
from perforch.orchestration.checking.sandbox import max_parallel
from perforch.orchestration.efficiency.values import Unrenderable
from perforch.orchestration.task import Limits, Program
from perforch.orchestration.visible_examples import visible_test

BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "humanevalpack"


def rows(language: str) -> list[dict]:
    with gzip.open(BENCHMARK / f"{language}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


async def check_language(language: str, limit: int | None) -> None:
    python, typed = rows("python"), rows(language)
    problems = {p.task_id: p for p in load_benchmark(BENCHMARK, [language])}
    gate = asyncio.Semaphore(max_parallel())
    started = time.monotonic()

    async def one(number: int) -> tuple[str, str]:
        row = typed[number]
        try:
            test = visible_test(language, row, python[number]["example_test"])
        except Unrenderable as exc:
            return "not generated", f"{row['task_id']}: {exc}"
        problem = problems[row["task_id"]]
        async with gate:
            verdict = await get_toolchain(language).build_and_test(
                Program(language, problem.reference_source, test, problem.test_setup), Limits(wall_seconds=30)
            )
        return ("passed", "") if verdict.passed else ("failed", f"{row['task_id']}: {verdict.diagnostics[:400]}")

    results = await asyncio.gather(*(one(n) for n in range(min(limit or len(typed), len(typed)))))
    counts = {kind: sum(1 for k, _ in results if k == kind) for kind in ("passed", "failed", "not generated")}
    print(f"{language}: {counts} in {time.monotonic() - started:.0f} s")
    for kind, detail in results:
        if kind != "passed":
            print(f"  {kind} {detail}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--languages", default="java,cpp,go,rust")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    languages = args.languages.split(",")
    await prepare_all(languages)
    try:
        for language in languages:
            await check_language(language, args.limit)
    finally:
        await close_all()


if __name__ == "__main__":
    asyncio.run(main())
