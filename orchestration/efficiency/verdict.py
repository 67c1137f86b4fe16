"""Whether one version is faster than another, decided so that noise cannot fake it.

A Timing holds, per case (one input), repeated measurements of the same work. Each case is summarised by
its median (robust to the preempted call a loaded machine produces now and then); a version's time is the
sum over cases. The candidate is faster only when the ratio of those times reaches the threshold AND a
bootstrap confidence interval of the ratio (calls resampled within each case, on both sides) lies above 1.
The resampling is seeded, so the same measurements always give the same verdict.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence

from ..task import Timing

CONFIDENCE = 0.99  # one-sided: the ratio's lower bound must exceed 1 in 99% of resamples
RESAMPLES = 1000


def total_time(cases: Sequence[Sequence[float]]) -> float:
    """The sum over cases of each case's median measurement."""
    return sum(statistics.median(samples) for samples in cases)


def speedup(baseline: Timing, candidate: Timing) -> float:
    """baseline time / candidate time (1.0 when either was not measured, or they timed different cases)."""
    if not _comparable(baseline, candidate):
        return 1.0
    slow, fast = total_time(baseline.cases), total_time(candidate.cases)
    return slow / fast if fast > 0 else 1.0


def ratio_lower_bound(baseline: Timing, candidate: Timing, confidence: float = CONFIDENCE) -> float:
    """The bootstrap lower confidence bound of baseline time / candidate time."""
    rng = random.Random(0)
    ratios = sorted(
        _resampled_total(baseline.cases, rng) / max(_resampled_total(candidate.cases, rng), 1e-300)
        for _ in range(RESAMPLES)
    )
    return ratios[int((1.0 - confidence) * RESAMPLES)]


def is_faster(baseline: Timing, candidate: Timing, threshold: float) -> bool:
    """Faster only when the gain reaches the threshold and the bootstrap interval of the gain excludes 1."""
    if not _comparable(baseline, candidate):
        return False
    return speedup(baseline, candidate) >= threshold and ratio_lower_bound(baseline, candidate) > 1.0


def _comparable(baseline: Timing, candidate: Timing) -> bool:
    a, b = baseline.cases, candidate.cases
    return bool(a) and len(a) == len(b) and all(a) and all(b)


def _resampled_total(cases: Sequence[Sequence[float]], rng: random.Random) -> float:
    total = 0.0
    for samples in cases:
        n = len(samples)
        total += statistics.median([samples[rng.randrange(n)] for _ in range(n)])
    return total
