"""The faster-or-not verdict on fixed measurements (no timing here: the numbers are given, not measured; the
rates on real measurements are benchmarks/efficiency_noise.py's)."""

from __future__ import annotations

import random

from perforch.orchestration.task import Timing
from perforch.orchestration.validation import is_faster, speedup


def _calls(center_ns: float, n: int, spread: float, seed: int) -> tuple[int, ...]:
    rng = random.Random(seed)
    return tuple(int(center_ns * (1 + rng.uniform(-spread, spread))) for _ in range(n))


def _timing(center_ns: float, *, cases: int = 4, n: int = 15, spread: float = 0.05, seed: int = 1) -> Timing:
    return Timing(call_ns=tuple(_calls(center_ns * (c + 1), n, spread, seed * 100 + c) for c in range(cases)))


def test_the_same_code_against_itself_is_never_faster():
    same = _timing(1e6)
    assert speedup(same, same) == 1.0
    assert not is_faster(same, same, 1.0001)
    assert not is_faster(_timing(1e6, seed=1), _timing(1e6, seed=2), 1.10)


def test_a_clear_gain_beyond_threshold_and_noise_is_faster():
    slow, fast = _timing(2e6, seed=3), _timing(1e6, seed=4)
    assert 1.9 < speedup(slow, fast) < 2.1
    assert is_faster(slow, fast, 1.10)
    assert not is_faster(fast, slow, 1.10)


def test_a_gain_below_the_threshold_is_not_kept():
    assert not is_faster(_timing(1.05e6, seed=5), _timing(1e6, seed=6), 1.10)


def test_a_gain_inside_the_noise_is_not_kept():
    """Point estimate past the threshold, but calls so scattered that the interval includes 1."""
    noisy_slow = Timing(call_ns=((100, 3000, 150, 2900, 130),))
    noisy_fast = Timing(call_ns=((90, 2800, 120, 2700, 110),))
    assert speedup(noisy_slow, noisy_fast) >= 1.10
    assert not is_faster(noisy_slow, noisy_fast, 1.10)


def test_timings_of_different_cases_or_nothing_are_not_compared():
    assert not is_faster(_timing(2e6, cases=3), _timing(1e6, cases=4), 1.10)
    assert not is_faster(Timing(), _timing(1e6), 1.10)
    assert speedup(Timing(), _timing(1e6)) == 1.0


def test_whole_process_cpu_seconds_still_compare():
    slow = Timing(cpu_seconds=(0.50, 0.52, 0.51, 0.53, 0.50))
    fast = Timing(cpu_seconds=(0.20, 0.21, 0.22, 0.20, 0.21))
    assert slow.median == 0.51 and is_faster(slow, fast, 1.10)
    assert not is_faster(slow, slow, 1.10)


def test_median_sums_the_cases_median_calls_in_seconds():
    timing = Timing(call_ns=((1_000, 3_000, 2_000), (10_000, 10_000, 30_000)))
    assert abs(timing.median - 12e-6) < 1e-15


def test_versions_timed_in_turns_are_compared_call_by_call():
    """Load that swings from call to call weighs on both versions of a pair alike: compared as pairs, a steady
    1.25x gain shows through it; the same numbers from separate runs are too scattered to call."""
    rng = random.Random(7)
    load = [rng.choice((1.0, 1.6, 2.2)) for _ in range(15)]
    slow = tuple(int(1.25e6 * f) for f in load)
    fast = tuple(int(1.0e6 * f * rng.uniform(0.98, 1.02)) for f in load)
    paired = Timing(call_ns=(slow,), run_id="run-1"), Timing(call_ns=(fast,), run_id="run-1")
    apart = Timing(call_ns=(slow,), run_id="run-1"), Timing(call_ns=(tuple(reversed(fast)),), run_id="run-2")
    assert is_faster(*paired, 1.10)
    assert not is_faster(*apart, 1.10)


def test_a_baseline_cut_off_by_its_deadline_loses_to_a_candidate_that_finishes():
    cut_off = Timing(cut_off_ns=120 * 10**9)  # did not finish in 120 s: a lower bound, not a measurement
    finished = _timing(1e6)
    assert is_faster(cut_off, finished, 1.10) and speedup(cut_off, finished) > 1000
    assert not is_faster(finished, cut_off, 1.10)
    assert not is_faster(cut_off, Timing(cut_off_ns=120 * 10**9), 1.10)
    assert not is_faster(cut_off, Timing(), 1.10)  # a wrong candidate has no timing
