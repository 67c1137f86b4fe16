"""Every HumanEvalPack canonical solution through the toolchains with its hidden test, and our
candidate-to-verdict time beside the bare toolchain's (compile and run by hand, no sandbox).

Prints per language: passed/total, the failures by task id (known-flaky Go/95 and Rust/32 apart),
seconds per problem (the language's wall time over its problems, up to CPU-count in parallel), the mean
latency of one verdict in that parallel run (queueing included), and wall seconds; then, on a sample run
one at a time, our candidate-to-verdict time against the bare toolchain's.
Targets: all 820 in under 2 minutes on 2 cores; ours within 1.2x of by hand, Java within 0.5x.

    python3 benchmarks/canonical_all.py [--languages python,go] [--limit N] [--sample N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from perforch.orchestration.benchmark import KNOWN_FLAKY, Problem, load_benchmark
from perforch.orchestration.checking import close_all, get_toolchain, prepare_all
from perforch.orchestration.checking.sandbox import max_parallel
from perforch.orchestration.languages import LANGUAGES
from perforch.orchestration.languages.cpp.benchmark import PRELUDE_HEADERS
from perforch.orchestration.languages.go.benchmark import test_file
from perforch.orchestration.task import Limits, Program, Verdict

BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "humanevalpack"


@dataclass
class LanguageRun:
    language: str
    verdicts: list[tuple[Problem, Verdict]]
    wall_seconds: float

    def failed(self, flaky: bool) -> list[str]:
        return [p.task_id for p, v in self.verdicts if not v.passed and (p.task_id in KNOWN_FLAKY) == flaky]


def program(problem: Problem) -> Program:
    return Program(problem.language, problem.reference_source, problem.hidden_test, problem.test_setup)


async def run_language(language: str, problems: list[Problem]) -> LanguageRun:
    toolchain = get_toolchain(language)
    in_flight = asyncio.Semaphore(2 * max_parallel())  # one candidate builds while another runs

    async def check(problem: Problem) -> tuple[Problem, Verdict]:
        async with in_flight:
            return problem, await toolchain.build_and_test(program(problem), Limits())

    started = time.monotonic()
    verdicts = await asyncio.gather(*(check(p) for p in problems))
    return LanguageRun(language, list(verdicts), time.monotonic() - started)


# -- the bare toolchains, by hand ------------------------------------------------------------------


def timed(*commands: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds to run the commands one after another (as a shell's `a && b` would)."""
    started = time.perf_counter()
    for argv in commands:
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def python_by_hand(prog: Program, work: Path) -> float:
    (work / "main.py").write_text(f"{prog.source}\n{prog.test}")
    return timed([get_toolchain("python").interpreter, "main.py"], cwd=work)


def java_by_hand(prog: Program, work: Path) -> float:
    (work / "Main.java").write_text(f"{prog.source}\n{prog.test}")
    return timed(["javac", "Main.java"], ["java", "-cp", ".", "Main"], cwd=work)


def cpp_by_hand(prog: Program, work: Path) -> float:
    prelude = "".join(f"#include <{name}>\n" for name in PRELUDE_HEADERS)
    (work / "main.cpp").write_text(f"{prelude}{prog.source}\n{prog.test}")
    return timed(["g++", "-std=c++17", "-O2", "main.cpp", "-o", "main", "-lcrypto"], ["./main"], cwd=work)


def go_by_hand(prog: Program, work: Path) -> float:
    go = get_toolchain("go")
    env = {**os.environ, **go.env}
    for name, content in go.module_files.items():
        (work / name).write_bytes(content)
    (work / "main_test.go").write_text(test_file(prog))
    subprocess.run([go.goimports, "-w", "main_test.go"], cwd=work, env=env, check=True)  # a fix-up, not timed
    return timed([go.go, "test", "-count=1", "."], cwd=work, env=env)


def rust_by_hand(prog: Program, work: Path) -> float:
    rust = get_toolchain("rust")
    (work / "main.rs").write_text(f"{prog.source}\n{prog.test}")
    compile_ = [rust.rustc, "--edition", "2021", "--test", *rust.crate_flags, "main.rs", "-o", "main"]
    return timed(compile_, ["./main"], cwd=work)


BY_HAND: dict[str, Callable[[Program, Path], float]] = {
    "python": python_by_hand,
    "java": java_by_hand,
    "cpp": cpp_by_hand,
    "go": go_by_hand,
    "rust": rust_by_hand,
}


async def compare_with_bare(language: str, problems: list[Problem], size: int) -> tuple[float, float]:
    """Median seconds (ours, by hand) over a sample, one at a time, alternating to share the noise."""
    steady = [p for p in problems if p.task_id not in KNOWN_FLAKY]
    sample = steady[:: max(1, len(steady) // size)][:size]
    ours, by_hand = [], []
    for problem in sample:
        ours.append((await get_toolchain(language).build_and_test(program(problem), Limits())).seconds)
        with tempfile.TemporaryDirectory() as work:
            by_hand.append(await asyncio.to_thread(BY_HAND[language], program(problem), Path(work)))
    return statistics.median(ours), statistics.median(by_hand)


# -- report -------------------------------------------------------------------------------------------


def print_runs(runs: list[LanguageRun], total_wall: float) -> None:
    print(f"{'language':9} {'passed':>9}  {'s/problem':>9} {'latency':>7} {'wall s':>7}  failures (flaky apart)")
    for run in runs:
        passed = sum(v.passed for _, v in run.verdicts)
        per_problem = run.wall_seconds / len(run.verdicts)
        latency = statistics.mean(v.seconds for _, v in run.verdicts)
        failures = ", ".join(run.failed(flaky=False)) or "-"
        flaky = ", ".join(run.failed(flaky=True))
        note = f"{failures}  (flaky: {flaky})" if flaky else failures
        score = f"{passed:>4}/{len(run.verdicts):<4}"
        print(f"{run.language:9} {score}  {per_problem:>9.3f} {latency:>7.3f} {run.wall_seconds:>7.1f}  {note}")
    total = sum(len(r.verdicts) for r in runs)
    print(f"all {total} programs: {total_wall:.1f} s wall with {max_parallel()} in parallel")
    for run in runs:
        for problem, verdict in run.verdicts:
            if not verdict.passed:
                print(f"\n--- {problem.task_id}: {verdict.outcome.value}\n{verdict.diagnostics[:600]}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--limit", type=int, default=None, help="first N problems per language")
    parser.add_argument("--sample", type=int, default=10, help="problems per language for the bare comparison")
    args = parser.parse_args()
    languages = [name.strip() for name in args.languages.split(",") if name.strip()]

    started = time.monotonic()
    await prepare_all(languages)
    print(f"one-time preparation: {time.monotonic() - started:.1f} s")

    problems = {language: load_benchmark(BENCHMARK, [language], args.limit) for language in languages}
    started = time.monotonic()
    runs = [await run_language(language, problems[language]) for language in languages]
    print_runs(runs, time.monotonic() - started)

    if args.sample > 0:
        print(f"\ncandidate-to-verdict vs the bare toolchain, median of {args.sample}, one at a time:")
        print(f"{'language':9} {'ours s':>7} {'by hand s':>9} {'ratio':>6}")
        for language in languages:
            ours, by_hand = await compare_with_bare(language, problems[language], args.sample)
            print(f"{language:9} {ours:>7.3f} {by_hand:>9.3f} {ours / by_hand:>6.2f}")
    await close_all()


if __name__ == "__main__":
    asyncio.run(main())
