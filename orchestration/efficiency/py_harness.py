"""Sandboxed script: time Python functions in-process (EFFICIENCY_PROTOCOL.md's harness, for Python).

`python3 -I py_harness.py <inputs> <results prefix> <warm-ups> <timed calls> <budget ms> <version.py>...`

The inputs are decoded and every version loaded before anything is timed. Per case: each version's
warm-up calls, then the timed calls, the versions taking turns (A B, then B A, ...) so that whatever else
the machine is doing weighs on each alike; every call gets a fresh deep copy of the arguments, made outside
the timed region, and is timed alone around the call only. With a budget, a case stops repeating once its
calls took that long (a version alone after one timed call, versions compared after _MIN_TURNS turns): a
quadratic function on the largest input is timed once, not ten times, unless it is being compared.

Prints `TIMES <version> <case> <ns> ...` per case as it goes (a run cut off by its deadline still tells
which cases it finished), then writes each version's first result per case, tagged, to
`<results prefix><version>` and prints `PEAK_RSS_KB <n>`. A call that raises prints
`ERROR <version> <case> <exception>` and exits 1.
"""

import copy
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run with -I: tagged.py sits here
import tagged  # noqa: E402

# The thread's CPU time, not wall time: on a machine shared by more processes than cores, a call is
# preempted at random and wall time would count the other processes' turns (README "How speed is
# measured"). PERFORCH_HARNESS_CLOCK=wall times with time.perf_counter_ns instead.
# Versions compared take at least this many turns whatever the budget: with one or two pairs of calls, noise
# alone (A/A ratios up to 1.26) passed the 1.10 threshold and the bootstrap had nothing to resample (a renamed
# copy of a slow canonical solution was once kept as faster). 2^-7 < 1%, the verdict's one-sided level.
_MIN_TURNS = 7
_clock = time.perf_counter_ns if os.environ.get("PERFORCH_HARNESS_CLOCK") == "wall" else time.thread_time_ns


def main(inputs_path, results_prefix, warmups, runs, budget_ms, *version_paths):
    sys.setrecursionlimit(100_000)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    with open(inputs_path, "rb") as file:
        count, *cases = tagged.decode_all(file.read())
    assert count == len(cases), "inputs file: wrong case count"
    functions = [_load(path, os.environ["PERFORCH_ENTRY_POINT"]) for path in version_paths]
    firsts = [[] for _ in functions]  # every result stays referenced, so no call's work can be skipped
    for index, args in enumerate(cases):
        times = _time_case(index, functions, args, int(warmups), int(runs), int(budget_ms) * 1_000_000, firsts)
        for version, samples in enumerate(times):
            print("TIMES", version, index, *samples, flush=True)
    for version, results in enumerate(firsts):
        with open(f"{results_prefix}{version}", "wb") as file:
            file.write(tagged.encode_all(results))
    print("PEAK_RSS_KB", _peak_rss_kb(), flush=True)


def _load(path, entry_point):
    with open(path, encoding="utf-8") as file:
        source = file.read()
    scope = {"__name__": "__candidate__"}
    exec(compile(source, os.path.basename(path), "exec"), scope)
    return scope[entry_point]


def _call(version, index, function, args):
    fresh = copy.deepcopy(args)
    try:
        started = _clock()
        result = function(*fresh)
        elapsed = _clock() - started
    except BaseException as exc:  # the candidate's failure, reported as the case's
        print("ERROR", version, index, f"{type(exc).__name__}: {str(exc)[:300]}", flush=True)
        sys.exit(1)
    return result, elapsed


def _time_case(index, functions, args, warmups, runs, budget_ns, firsts):
    gc.collect()
    spent = 0
    for version, function in enumerate(functions):
        for call in range(max(warmups, 1)):  # the first call's result is the one written, timed or not
            result, elapsed = _call(version, index, function, args)
            spent += elapsed
            if call == 0:
                firsts[version].append(result)
    times = [[] for _ in functions]
    for run in range(runs):
        order = range(len(functions)) if run % 2 == 0 else reversed(range(len(functions)))
        for version in order:
            _, elapsed = _call(version, index, functions[version], args)
            times[version].append(elapsed)
            spent += elapsed
        if budget_ns and spent >= budget_ns and (len(functions) == 1 or run + 1 >= _MIN_TURNS):
            break
    return times


def _peak_rss_kb():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main(*sys.argv[1:])
