"""How often the speed verdict is fooled by noise, per language, on this machine under its current load.

Each trial measures two versions as refinement does (the version it starts from and the candidate taking
turns: call by call in one Python process, in short alternating runs in the typed languages) and asks
`is_faster(start, candidate, threshold)`:
- A/A: the same function against itself; calling it faster is a false positive (target <= 1%);
- 1.2x: a version doing 1.2 times the work against the plain one; missing it is a miss (target >= 95%).
The workload is a dependent integer loop over a list at three sizes (one case per size), timed as the
refine stage times visible inputs (1 warm-up, 15 timed calls per case, a 300 ms budget per case).

    python benchmarks/efficiency_noise.py [--trials 40] [--languages python]

Prints per language the two rates with their trial counts. Languages without a harness are listed as such.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from perforch.orchestration.efficiency.enamel import EnamelProblem
from perforch.orchestration.efficiency.harness import HarnessUnavailable, run_versions
from perforch.orchestration.efficiency.inputs import Case
from perforch.orchestration.task import Limits
from perforch.orchestration.validation import is_faster, speedup

THRESHOLD = 1.10  # the default refine_threshold
SIZES = (2_000, 20_000, 60_000)
LIMITS = Limits(wall_seconds=120.0)

PYTHON_PLAIN = """
def work(xs):
    h = 0
    for x in xs:
        h = (h * 31 + x) % 1000003
    return h
"""
PYTHON_SLOWER = """
from itertools import islice

def work(xs):
    h = 0
    for x in xs:
        h = (h * 31 + x) % 1000003
    extra = 0
    for x in islice(xs, len(xs) // 5):
        extra = (extra * 31 + x) % 1000003
    return h if extra >= 0 else -1
"""
# The typed languages: the same loop, HumanEvalPack's style of declaration; the slower version also runs
# the loop over the first fifth and lets that sum decide the result (it never does), so no optimizer drops it.
JAVA_LOOP = """
import java.util.*;

class Solution {
    public long work(List<Long> xs) {
        long h = 0;
        for (int i = 0; i < xs.size(); i++) {
            h = (h * 31 + xs.get(i)) % 1000003;
        }
        EXTRA
        return h;
    }
}
"""
JAVA_EXTRA = """long extra = 0;
        for (int i = 0; i < xs.size() / 5; i++) {
            extra = (extra * 31 + xs.get(i)) % 1000003;
        }
        if (extra == -1) return -1;"""
CPP_LOOP = """
#include <vector>
using namespace std;
long long work(vector<long long> xs){
    long long h = 0;
    for (size_t i = 0; i < xs.size(); i++) h = (h * 31 + xs[i]) % 1000003;
    EXTRA
    return h;
}
"""
CPP_EXTRA = """long long extra = 0;
    for (size_t i = 0; i < xs.size() / 5; i++) extra = (extra * 31 + xs[i]) % 1000003;
    if (extra == -1) return -1;"""
GO_LOOP = """
func work(xs []int) int {
    h := 0
    for _, x := range xs {
        h = (h*31 + x) % 1000003
    }
    EXTRA
    return h
}
"""
GO_EXTRA = """extra := 0
    for _, x := range xs[:len(xs)/5] {
        extra = (extra*31 + x) % 1000003
    }
    if extra == -1 {
        return -1
    }"""
RUST_LOOP = """
fn main(){}

fn work(xs: Vec<i64>) -> i64 {
    let mut h: i64 = 0;
    for x in xs.iter() {
        h = (h * 31 + x) % 1000003;
    }
    EXTRA
    h
}
"""
RUST_EXTRA = """let mut extra: i64 = 0;
    for x in xs[..xs.len() / 5].iter() {
        extra = (extra * 31 + x) % 1000003;
    }
    if extra == -1 {
        return -1;
    }"""


def _typed(loop: str, extra: str) -> tuple[str, str]:
    return loop.replace("EXTRA", ""), loop.replace("EXTRA", extra)


WORKLOADS = {
    "python": (PYTHON_PLAIN, PYTHON_SLOWER),
    "java": _typed(JAVA_LOOP, JAVA_EXTRA),
    "cpp": _typed(CPP_LOOP, CPP_EXTRA),
    "go": _typed(GO_LOOP, GO_EXTRA),
    "rust": _typed(RUST_LOOP, RUST_EXTRA),
}
PROBLEM = EnamelProblem(
    number=-1,
    entry_point="work",
    prompt="def work(xs):\n    '''a dependent loop'''",
    input_generator="",
    levels=SIZES,
    reference_solution="",
    checker="def __check(input, answer, output):\n    return output == answer",
)


def _cases() -> tuple[Case, ...]:
    cases = []
    for level, size in enumerate(SIZES):
        xs = [(i * 7919) % 10007 for i in range(size)]
        h = 0
        for x in xs:
            h = (h * 31 + x) % 1000003
        cases.append(Case(level, size, (xs,), h))
    return tuple(cases)


async def _timings(language: str, first: str, second: str, cases):
    runs = await run_versions(
        language, PROBLEM, [first, second], "work", cases, warmups=1, runs=15, limits=LIMITS, budget_ms=300
    )
    for run in runs:
        if not run.passed:
            raise SystemExit(f"{language}: the workload failed: {run.outcome.value} {run.detail}")
    return runs[0].timing, runs[1].timing


async def _rates(language: str, trials: int) -> tuple[int, int, list[float], list[float]]:
    plain, slower = WORKLOADS[language]
    cases = _cases()
    false_positives = detected = 0
    same, gained = [], []
    for _ in range(trials):
        a, b = await _timings(language, plain, plain, cases)
        false_positives += is_faster(a, b, THRESHOLD)
        same.append(speedup(a, b))
        slow, fast = await _timings(language, slower, plain, cases)
        detected += is_faster(slow, fast, THRESHOLD)
        gained.append(speedup(slow, fast))
    return false_positives, detected, same, gained


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40, help="trials per language (each is 2 harness runs)")
    parser.add_argument("--languages", default="python,java,cpp,go,rust")
    args = parser.parse_args()
    print(f"threshold {THRESHOLD}, {args.trials} trials per language, sizes {SIZES}")
    for language in args.languages.split(","):
        if language not in WORKLOADS:
            print(f"{language:7} no workload/harness here yet")
            continue
        started = time.monotonic()
        try:
            false_positives, detected, same, gained = await _rates(language, args.trials)
        except HarnessUnavailable as exc:
            print(f"{language:7} {exc}")
            continue
        n = args.trials
        print(
            f"{language:7} A/A called faster {false_positives}/{n} ({false_positives / n:.1%}, target <= 1%); "
            f"true 1.2x detected {detected}/{n} ({detected / n:.1%}, target >= 95%); "
            f"{time.monotonic() - started:.0f} s"
        )
        print(
            f"{'':7} measured A/A ratios {min(same):.3f}-{max(same):.3f} (median {statistics.median(same):.3f}); "
            f"1.2x ratios {min(gained):.3f}-{max(gained):.3f} (median {statistics.median(gained):.3f})"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
