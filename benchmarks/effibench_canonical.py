"""EffiBench-X's canonical solutions, run and judged here, per language: pass@1 and efficiency.

For every problem of an EffiBench-X directory (default: the real Aizu problem in shared/benchmarks) and every
language with a solution (Rust: none in the data; pass `--rust FILE` to score one against the C++ canonical),
the canonical solution runs on all its tests in the sandbox, judged by the problem's evaluator; then it runs
again as the "candidate", and efficiency = min(1, canonical / candidate) CPU seconds, failures counting 0, as
upstream averages it. Both runs of a canonical solution are the same program, so its efficiency shows the
measurement's noise floor (1.00 would be exact). The paper reports 95.83% pass@1 for PerfOrch's models.

    python benchmarks/effibench_canonical.py [DIR] [--languages python,cpp] [--rust FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from pathlib import Path

from perforch.orchestration.efficiency.effibench import efficiency, load_effibench, run_solution

REAL = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "effibench-x"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=REAL)
    parser.add_argument("--languages", default="python,java,cpp,go")
    parser.add_argument("--rust", type=Path, help="a Rust io answer to score against the C++ canonical solution")
    args = parser.parse_args()
    problems = load_effibench(args.directory)
    languages = args.languages.split(",") + (["rust"] if args.rust else [])
    print(f"{len(problems)} problem(s) from {args.directory}; paper: pass@1 95.83% (models, not canonical)")
    print(f"{'language':<9}{'pass@1':>8}{'efficiency':>12}{'CPU s (canonical)':>20}")
    for language in languages:
        passed, scores, seconds = 0, [], []
        for problem in problems:
            reference = "cpp" if language == "rust" else language
            if reference not in problem.solutions:
                continue
            canonical = await run_solution(problem, reference, problem.solutions[reference])
            answer = args.rust.read_text() if language == "rust" else problem.solutions[language]
            candidate = await run_solution(problem, language, answer)
            passed += candidate.passed
            score = efficiency(canonical, candidate)
            scores.append(score if score is not None else 0.0)
            seconds.append(canonical.cpu_seconds)
            if not candidate.passed:
                print(f"  {problem.key} {language}: {candidate.outcome.value}: {candidate.detail[:300]}")
        if scores:
            mean = statistics.fmean(scores)
            print(f"{language:<9}{passed / len(scores):>8.1%}{mean:>12.2f}{statistics.median(seconds):>20.3f}")


if __name__ == "__main__":
    asyncio.run(main())
