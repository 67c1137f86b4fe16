"""How long workspace mode takes from a candidate to its verdict, next to the workspace's own test command.

For each example under examples/, on two fresh copies: the test command run by hand (from scratch in a
fresh copy, then incrementally after an edit), and PerfOrch's validator (prepare, the first candidate,
then repeated candidates), alternating so that both meet the same load. Every candidate is the example's
file with a different trailing comment, so each one is really rebuilt; the stub fails its test either
way, which costs the same as passing. Then the time to mirror a generated 10,000-file workspace. Last, what
optimize measures: the example's quadratic has_duplicates timed by its own instrumented calls in its tests, before
and after a set-based rewrite, per test (the speed-up the refine stage decides on).

    python benchmarks/workspace_speed.py [--languages python,go] [--repeats 5] [--function-times]
                                         [--sandbox none,bubblewrap]

`--sandbox none,bubblewrap` measures the candidates without the jail, then with it (the cost of the
isolation; default: only the jail, as PerfOrch runs).

Targets (issues 3 and 12): a repeated candidate within 1.2x of the incremental command, jail included; the
first within 1.5x; the 10,000-file copy under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from perforch.orchestration.config import Config, SandboxSettings
from perforch.orchestration.stubs import splice
from perforch.orchestration.task import Limits, Timing
from perforch.orchestration.workspace import ShadowTree, Workspace
from perforch.orchestration.workspace.calls import per_test_medians, shown_seconds

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LIMITS = Limits(wall_seconds=60, build_seconds=300)


@dataclass(frozen=True)
class Case:
    file: str
    function: str
    comment: str  # how a line comment starts
    scratch: tuple[tuple[str, ...], ...]  # the commands of a first run in a fresh copy
    incremental: tuple[tuple[str, ...], ...]  # the commands after an edit
    slow: str  # the example's quadratic function, and a linear rewrite of it
    fast: str


_CTEST = ("ctest", "--test-dir", "build", "-R", "TextStats.CountsVowels")
CASES = {
    "python": Case(
        "textstats/core.py",
        "count_vowels",
        "#",
        ((sys.executable, "-m", "pytest", "-q", "tests/test_core.py::test_count_vowels"),),
        ((sys.executable, "-m", "pytest", "-q", "tests/test_core.py::test_count_vowels"),),
        "has_duplicates",
        "def has_duplicates(values: list[int]) -> bool:\n    return len(set(values)) != len(values)\n",
    ),
    "java": Case(
        "src/main/java/example/TextStats.java",
        "countVowels",
        "//",
        (("mvn", "-B", "-q", "-o", "test", "-Dtest=TextStatsTest#countsVowels"),),
        (("mvn", "-B", "-q", "-o", "test", "-Dtest=TextStatsTest#countsVowels"),),
        "hasDuplicates",
        "public static boolean hasDuplicates(List<Integer> values) {\n"
        "    return new java.util.HashSet<>(values).size() != values.size();\n}\n",
    ),
    "cpp": Case(
        "src/textstats.cpp",
        "count_vowels",
        "//",
        (("cmake", "-S", ".", "-B", "build", "-G", "Ninja"), ("cmake", "--build", "build"), _CTEST),
        (("cmake", "--build", "build"), _CTEST),
        "has_duplicates",
        "#include <unordered_set>\nbool has_duplicates(const std::vector<int>& values) {\n"
        "    std::unordered_set<int> seen(values.begin(), values.end());\n"
        "    return seen.size() != values.size();\n}\n",
    ),
    "go": Case(
        "textstats.go",
        "CountVowels",
        "//",
        (("go", "test", "-run", "^TestCountVowels$", "."),),
        (("go", "test", "-run", "^TestCountVowels$", "."),),
        "HasDuplicates",
        "func HasDuplicates(values []int) bool {\n\tseen := make(map[int]bool, len(values))\n"
        "\tfor _, v := range values {\n\t\tif seen[v] {\n\t\t\treturn true\n\t\t}\n\t\tseen[v] = true\n\t}\n"
        "\treturn false\n}\n",
    ),
    "rust": Case(
        "src/lib.rs",
        "count_vowels",
        "//",
        (("cargo", "test", "--offline", "counts_vowels"),),
        (("cargo", "test", "--offline", "counts_vowels"),),
        "has_duplicates",
        "pub fn has_duplicates(values: &[i64]) -> bool {\n"
        "    let mut seen = std::collections::HashSet::new();\n    values.iter().any(|v| !seen.insert(*v))\n}\n",
    ),
}


def by_hand(root: Path, commands: tuple[tuple[str, ...], ...]) -> float:
    """Wall seconds of the commands, run in `root` as a user would (a failing test is expected)."""
    started = time.monotonic()
    for argv in commands:
        subprocess.run(argv, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - started


class Edits:
    """The example's file with a new trailing comment each time: a change every build must see."""

    def __init__(self, original: str, comment: str) -> None:
        self._original, self._comment, self._count = original, comment, 0

    def next(self) -> str:
        self._count += 1
        return f"{self._original}\n{self._comment} candidate {self._count}\n"


async def language_row(language: str, repeats: int, parent: Path, sandbox: str) -> dict[str, float]:
    case = CASES[language]
    hand, ours = parent / f"{language}-{sandbox}-by-hand", parent / f"{language}-{sandbox}-perforch"
    for copy in (hand, ours):
        shutil.copytree(EXAMPLES / language, copy)
    original = (ours / case.file).read_text()
    hand_edits, our_edits = Edits(original, case.comment), Edits(original, case.comment)

    row = {"scratch": by_hand(hand, case.scratch)}
    workspace = Workspace.open(ours / case.file, Config(sandbox=SandboxSettings(sandbox)))
    started = time.monotonic()
    await workspace.prepare()
    row["prepare"] = time.monotonic() - started
    validator = workspace.validator(case.function, LIMITS)
    row["first"] = (await validator.check(our_edits.next())).seconds

    incremental, repeated = [], []
    for _ in range(repeats):
        (hand / case.file).write_text(hand_edits.next())
        incremental.append(by_hand(hand, case.incremental))
        repeated.append((await validator.check(our_edits.next())).seconds)
    row["incremental"] = statistics.median(incremental)
    row["repeated"] = statistics.median(repeated)
    return row


def mirror_speed(parent: Path, files: int = 10_000) -> tuple[float, float]:
    """Seconds to mirror a generated workspace of `files` files: the first time, then a re-sync."""
    source = parent / "big"
    for index in range(files):
        path = source / f"pkg{index // 100:03d}" / f"module{index % 100:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n")
    shadow = ShadowTree(source, parent / "big-shadow")
    started = time.monotonic()
    shadow.sync()
    first = time.monotonic() - started
    started = time.monotonic()
    shadow.sync()
    return first, time.monotonic() - started


async def function_times(language: str, parent: Path) -> tuple[Timing, Timing]:
    """The slow function's own time per test, as optimize measures it, before and after its rewrite."""
    case = CASES[language]
    root = parent / f"{language}-function"
    shutil.copytree(EXAMPLES / language, root)
    original = (root / case.file).read_text()
    workspace = Workspace.open(root / case.file, Config())
    validator = workspace.validator(case.slow, LIMITS, runs=5)
    before = await validator.measure(original)
    after = await validator.measure(splice(original, language, case.slow, case.fast))
    return before, after


def print_function_times(language: str, before: Timing, after: Timing) -> None:
    if not before.call_ns or not after.call_ns:
        print(f"{language:<10} not timed in-process (the function's calls were not recorded)", flush=True)
        return
    later = per_test_medians(after)
    for test, seconds in per_test_medians(before).items():
        faster = seconds / later[test] if later.get(test) else float("nan")
        print(
            f"{language:<10} {test:<42} {shown_seconds(seconds):>10} -> {shown_seconds(later.get(test, 0.0)):>10} "
            f"{faster:>9.0f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default=",".join(CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--function-times", action="store_true", help="only the slow function's own times")
    parser.add_argument("--sandbox", default="bubblewrap", help="modes to compare, e.g. none,bubblewrap")
    args = parser.parse_args()
    languages = args.languages.split(",")
    with tempfile.TemporaryDirectory(prefix="perforch-bench-") as directory:
        parent = Path(directory)
        os.environ["PERFORCH_CACHE_DIR"] = str(parent / "cache")  # cold shadows, as on a first run
        if not args.function_times:
            print_candidate_speed(languages, args.repeats, parent, args.sandbox.split(","))
        print("\nthe slow function's own time per test (median of 5 runs), before -> after a set-based rewrite")
        for language in languages:
            print_function_times(language, *asyncio.run(function_times(language, parent)))


def print_candidate_speed(languages: list[str], repeats: int, parent: Path, sandboxes: list[str]) -> None:
    print(
        "language   sandbox     by hand: scratch  incremental | perforch: prepare  first  repeated | first/inc  rep/inc"
    )
    for language in languages:
        for sandbox in sandboxes:  # one after the other, so both meet about the same load
            print_row(language, sandbox, asyncio.run(language_row(language, repeats, parent, sandbox)))
    first, again = mirror_speed(parent)
    print(f"\nshadow copy of a 10,000-file workspace: {first:.2f} s (re-sync with no change: {again:.2f} s)")


def print_row(language: str, sandbox: str, row: dict[str, float]) -> None:
    print(
        f"{language:<10} {sandbox:<11} {row['scratch']:>16.2f} {row['incremental']:>12.2f} | {row['prepare']:>17.2f} "
        f"{row['first']:>6.2f} {row['repeated']:>9.2f} | {row['first'] / row['incremental']:>8.2f}x "
        f"{row['repeated'] / row['incremental']:>6.2f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
