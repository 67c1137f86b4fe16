"""Sandboxed script: judge a function's results with the problem's ENAMEL checker (dataset code).

`python3 -I judge.py <request.json> <inputs> <expected> <results>`: request.json holds the Python prompt and
the checker source, as upstream runs them (`prompt`, `pass`, then the checker). The results were written
by the candidate, so they are decoded with a size cap and only as plain values. Prints
`JUDGED <accepted count> <first rejected case or -1>` or `ERROR <why>`.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run with -I: tagged.py sits here
import tagged  # noqa: E402

_MAX_RESULTS = 256 * 1024 * 1024


def main(request_path, inputs_path, expected_path, results_path):
    sys.setrecursionlimit(100_000)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    with open(request_path, encoding="utf-8") as file:
        request = json.load(file)
    with open(inputs_path, "rb") as file:
        _, *inputs = tagged.decode_all(file.read())
    with open(expected_path, "rb") as file:
        expected = tagged.decode_all(file.read())
    try:
        with open(results_path, "rb") as file:
            results = tagged.decode_all(file.read(_MAX_RESULTS + 1), _MAX_RESULTS)
    except (OSError, tagged.StreamError) as exc:
        print("ERROR results unreadable:", exc, flush=True)
        sys.exit(1)
    scope = {"__name__": "__judge__"}
    exec(request["prompt"] + "\n    pass\n" + request["checker"], scope)
    check = scope["__check"]
    accepted, first_rejected = 0, -1
    for index, (args, answer) in enumerate(zip(inputs, expected, strict=True)):
        ok = index < len(results) and _accepts(check, args, answer, results[index])
        accepted += ok
        if not ok and first_rejected < 0:
            first_rejected = index
    print("JUDGED", accepted, first_rejected, flush=True)


def _accepts(check, args, answer, output):
    try:
        return bool(check(args, answer, output))
    except Exception:  # a checker that trips on a wrong-shaped output has rejected it
        return False


if __name__ == "__main__":
    main(*sys.argv[1:5])
