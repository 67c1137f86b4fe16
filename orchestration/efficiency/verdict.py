"""Whether one version is faster than another, decided so that noise cannot fake it.

A Timing holds, per case (one input), repeated measurements of the same work. Each case is summarised by
its median (robust to the preempted call a loaded machine produces now and then); a version's time is the
sum over cases. The candidate is faster only when the ratio of those times reaches the threshold AND a
bootstrap confidence interval of the ratio (calls resampled within each case, on both sides) lies above 1.
Two Timings taken together (the same run_id: one harness run that timed the versions call by call in turn)
are resampled as pairs, the i-th calls of both together, so the load they shared cancels out of the ratio.
The resampling is seeded, so the same measurements always give the same verdict.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence

from ..task import Timing

CONFIDENCE = 0.99  # one-sided: the ratio exceeds 1 in 99% of resamples
RESAMPLES = 1000


def total_time(cases: Sequence[Sequence[float]]) -> float:
    """The sum over cases of each case's median measurement."""
    return sum(statistics.median(samples) for samples in cases)


def speedup(baseline: Timing, candidate: Timing) -> float:
    """baseline time / candidate time (1.0 when either was not measured, or they timed different cases).

    Paired timings compare call by call: per case, the median of the pairs' ratios, weighted by the
    candidate's median time, so a slow spell that hit both calls of a pair cancels out."""
    if _outlasted(baseline, candidate):
        return baseline.cut_off_ns / 1e9 / max(total_time(candidate.cases), 1e-9)
    if not _comparable(baseline, candidate):
        return 1.0
    a, b = baseline.cases, candidate.cases
    if _paired(baseline, candidate):
        slow, fast = _paired_totals(a, b, [list(range(len(x))) for x in a])
    else:
        slow, fast = total_time(a), total_time(b)
    return slow / fast if fast > 0 else 1.0


def ratio_lower_bound(baseline: Timing, candidate: Timing, confidence: float = CONFIDENCE) -> float:
    """The bootstrap lower confidence bound of baseline time / candidate time."""
    rng = random.Random(0)
    a, b = baseline.cases, candidate.cases
    paired = _paired(baseline, candidate)
    ratios = []
    for _ in range(RESAMPLES):
        if paired:
            slow, fast = _paired_totals(a, b, [[rng.randrange(len(x)) for _ in x] for x in a])
        else:
            slow, fast = _resampled_total(a, rng), _resampled_total(b, rng)
        ratios.append(slow / max(fast, 1e-300))
    ratios.sort()
    return ratios[int((1.0 - confidence) * RESAMPLES)]


def is_faster(baseline: Timing, candidate: Timing, threshold: float) -> bool:
    """Faster only when the gain reaches the threshold and the bootstrap interval of the gain excludes 1."""
    if _outlasted(baseline, candidate):  # its deadline is a lower bound on the baseline's time
        return speedup(baseline, candidate) >= threshold
    if not _comparable(baseline, candidate):
        return False
    return speedup(baseline, candidate) >= threshold and ratio_lower_bound(baseline, candidate) > 1.0


def _outlasted(baseline: Timing, candidate: Timing) -> bool:
    """The baseline was cut off by its deadline, and the candidate finished every case."""
    return bool(baseline.cut_off_ns) and not candidate.cut_off_ns and bool(candidate.cases)


def _comparable(baseline: Timing, candidate: Timing) -> bool:
    a, b = baseline.cases, candidate.cases
    return bool(a) and len(a) == len(b) and all(a) and all(b)


def _paired(baseline: Timing, candidate: Timing) -> bool:
    """Timed in one run taking turns: the i-th calls of each case met the same load."""
    together = bool(baseline.run_id) and baseline.run_id == candidate.run_id
    return together and all(len(x) == len(y) for x, y in zip(baseline.cases, candidate.cases, strict=True))


def _paired_totals(
    a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], picks: list[list[int]]
) -> tuple[float, float]:
    """(baseline, candidate) totals from the picked pairs: the candidate's medians, and those scaled by the
    median ratio of the pairs."""
    slow = fast = 0.0
    for x, y, pick in zip(a, b, picks, strict=True):
        own = statistics.median([y[i] for i in pick])
        slow += own * statistics.median([x[i] / y[i] if y[i] > 0 else 1.0 for i in pick])
        fast += own
    return slow, fast


def _resampled_total(cases: Sequence[Sequence[float]], rng: random.Random) -> float:
    total = 0.0
    for samples in cases:
        n = len(samples)
        total += statistics.median([samples[rng.randrange(n)] for _ in range(n)])
    return total
