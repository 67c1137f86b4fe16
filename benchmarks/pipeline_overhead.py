"""The pipeline's own overhead per stage: wall time minus model calls minus toolchain runs.

Runs the full pipeline (categorize, generate, debug, refine) on HumanEvalPack Python problems against the
scripted models (tests/humaneval_models.py) and prints, per stage executed, the time spent outside the
model gateway and the validator: prompt building, answer parsing, splicing, ranking look-ups, bookkeeping.
Target: under 20 ms per stage.

    python3 benchmarks/pipeline_overhead.py [--limit 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from humaneval_models import BENCHMARK, FIXER, WRITER_JCR, WRITER_PG, HumanEvalModels  # noqa: E402
from perforch.orchestration.benchmark import load_benchmark  # noqa: E402
from perforch.orchestration.checking import close_all  # noqa: E402
from perforch.orchestration.config import PipelineSettings  # noqa: E402
from perforch.orchestration.models import ModelGateway, ModelSpec  # noqa: E402
from perforch.orchestration.pipeline import Pipeline  # noqa: E402
from perforch.orchestration.rankings.matrix import RankingMatrix  # noqa: E402
from perforch.orchestration.rankings.router import Router  # noqa: E402
from perforch.orchestration.task import Limits  # noqa: E402
from perforch.orchestration.validation import ProgramValidator  # noqa: E402
from scripted_server import start_scripted_server  # noqa: E402


class TimedValidator:
    """A real validator that also adds up the time spent in it."""

    def __init__(self, inner: ProgramValidator) -> None:
        self.inner, self.seconds = inner, 0.0

    async def check(self, source: str):
        started = time.perf_counter()
        try:
            return await self.inner.check(source)
        finally:
            self.seconds += time.perf_counter() - started

    async def measure(self, source: str):
        started = time.perf_counter()
        try:
            return await self.inner.measure(source)
        finally:
            self.seconds += time.perf_counter() - started


async def run(limit: int) -> None:
    os.environ.setdefault("PERFORCH_BENCH_KEY", "sk-bench")
    problems = load_benchmark(BENCHMARK, ["python"], limit)
    with start_scripted_server(HumanEvalModels()) as server:
        specs = [
            ModelSpec(m, f"openai/{m}", {"api_base": server.base_url}, api_key_env="PERFORCH_BENCH_KEY")
            for m in (FIXER, WRITER_JCR, WRITER_PG)
        ]
        # Worst order for Python: two failing generators first, then the debugger, so every stage runs.
        limits = PipelineSettings(generators=2, debuggers=1, debug_rounds=1, refiners=1)
        router = Router(RankingMatrix(), default_order=(WRITER_JCR, FIXER, WRITER_PG))
        pipeline = Pipeline(ModelGateway(specs), router, limits)
        overheads = []
        for problem in problems:
            validator = TimedValidator(
                ProgramValidator("python", problem.visible_test, problem.test_setup, Limits(), runs=2)
            )
            started = time.perf_counter()
            result = await pipeline.run(problem.task(), validator)
            wall = time.perf_counter() - started
            model = sum(a.seconds for a in result.trace if a.status == "answered")
            stages = len({(a.stage, a.model, a.attempt) for a in result.trace})
            overheads.append((wall - model - validator.seconds) / stages)
        await close_all()
    # The first run pays for importing litellm and warming the toolchain: a one-off start-up cost.
    ms = [o * 1000 for o in overheads[1:] or overheads]
    print(
        f"{len(ms)} problems; overhead per stage attempt: median {statistics.median(ms):.2f} ms, "
        f"max {max(ms):.2f} ms (target < 20 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=20)
    asyncio.run(run(parser.parse_args().limit))
