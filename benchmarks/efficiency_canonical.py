"""HumanEvalPack's canonical solutions on ENAMEL's hidden performance inputs, per language.

For every problem of ENAMEL's set: the canonical solution is run once on each hidden input (20 per problem,
levels 0-3) and its results judged by ENAMEL's checker; then, if right, timed on the top level's first
input (3 timed calls, turns with the expert reference in Python). Prints per language: problems rendered,
correct, wrong (with the input that shows it), timed out (a finding, listed apart), the median seconds per
problem at the top level, and for Python the expert reference's speed-up over the canonical solution.

    python benchmarks/efficiency_canonical.py [--languages python] [--limit N] [--wall 60]

Languages whose harness is not installed are reported as such (efficiency/harness.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from perforch.orchestration.efficiency.enamel import joined
from perforch.orchestration.efficiency.harness import HarnessUnavailable, run_harness, run_versions, unrenderable
from perforch.orchestration.efficiency.inputs import HIDDEN_SEED, InputsError, performance_inputs
from perforch.orchestration.efficiency.validator import describe_args
from perforch.orchestration.profiling import for_each
from perforch.orchestration.task import Limits, Outcome

ENAMEL = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "enamel"


async def _one(pair, wall: float) -> dict:
    enamel, problem = pair
    row = {"task_id": problem.task_id, "status": "", "detail": "", "top_seconds": None, "ref_speedup": None}
    try:
        hidden = await performance_inputs(enamel, ENAMEL, HIDDEN_SEED)
    except InputsError as exc:
        return {**row, "status": "not rendered", "detail": str(exc)}
    limits = Limits(wall_seconds=wall, memory_mb=4096, output_bytes=256 << 20)
    source, entry = problem.reference_source, problem.entry_point
    why = unrenderable(problem.language, source, entry, hidden.cases)
    if why:
        return {**row, "status": "not rendered", "detail": why}
    try:
        check = await run_harness(
            problem.language, enamel, source, entry, hidden.cases, warmups=0, runs=0, limits=limits
        )
    except HarnessUnavailable as exc:
        return {**row, "status": "no harness", "detail": str(exc)}
    if check.outcome is Outcome.TIMEOUT:
        return {**row, "status": "timed out", "detail": _case_text(hidden.cases, check.failed_case)}
    if not check.passed:
        return {**row, "status": "wrong", "detail": f"{check.detail}; {_case_text(hidden.cases, check.failed_case)}"}
    top = hidden.at_levels((3,), per_level=1)
    versions = [source, enamel.reference_source] if problem.language == "python" else [source]
    runs = await run_versions(
        problem.language, enamel, versions, entry, top, warmups=0, runs=3, limits=limits, budget_ms=1000
    )
    if not runs[0].passed:
        return {**row, "status": "correct", "detail": f"top level not timed: {runs[0].detail}"}
    canonical = statistics.median(runs[0].call_ns[0]) / 1e9
    row.update(status="correct", top_seconds=canonical)
    if len(runs) > 1 and runs[1].passed:
        row["ref_speedup"] = canonical / max(statistics.median(runs[1].call_ns[0]) / 1e9, 1e-9)
    return row


def _case_text(cases, index) -> str:
    if index is None or index >= len(cases):
        return ""
    case = cases[index]
    shown = repr(case.args)
    shown = shown if len(shown) <= 300 else f"{describe_args(case.args)}"
    return f"input: level {case.level}, size {case.size}: {shown}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", default="python,java,cpp,go,rust")
    parser.add_argument("--limit", type=int, help="first N problems per language")
    parser.add_argument("--wall", type=float, default=60.0, help="seconds allowed for one run of all inputs")
    args = parser.parse_args()
    for language in args.languages.split(","):
        started = time.monotonic()
        rows = await for_each(joined(ENAMEL, [language], args.limit), lambda pair: _one(pair, args.wall))
        missing = [r for r in rows if r["status"] == "no harness"]
        if missing:
            print(f"{language}: {missing[0]['detail']}\n")
            continue
        by = {s: [r for r in rows if r["status"] == s] for s in ("correct", "wrong", "timed out", "not rendered")}
        rendered = len(rows) - len(by["not rendered"])
        tops = [r["top_seconds"] for r in by["correct"] if r["top_seconds"] is not None]
        print(
            f"{language}: {len(rows)} problems, rendered {rendered}, correct {len(by['correct'])}, "
            f"wrong {len(by['wrong'])}, timed out {len(by['timed out'])} (limit {args.wall:.0f} s); "
            f"median top-level seconds {statistics.median(tops) if tops else float('nan'):.6f} "
            f"({time.monotonic() - started:.0f} s)"
        )
        for status in ("wrong", "timed out", "not rendered"):
            for r in by[status]:
                print(f"  {status}: {r['task_id']} {r['detail'][:400]}")
        speedups = [(r["ref_speedup"], r["task_id"]) for r in by["correct"] if r["ref_speedup"]]
        if speedups:
            values = [s for s, _ in speedups]
            print(
                f"  expert reference vs canonical at the top level: median {statistics.median(values):.2f}x, "
                f">= 2x on {sum(v >= 2 for v in values)}/{len(values)}"
            )
            print("  " + ", ".join(f"{t.split('/')[1]}:{s:.2f}x" for s, t in sorted(speedups, key=lambda p: -p[0])))
        print()


if __name__ == "__main__":
    asyncio.run(main())
