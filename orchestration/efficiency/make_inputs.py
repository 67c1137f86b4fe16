"""Sandboxed script: make one ENAMEL problem's performance inputs and their expected answers.

Run as `python3 make_inputs.py <request.json> <inputs out> <answers out>` in a directory holding this file,
tagged.py and ENAMEL's datautils.py. The generator and the reference are dataset code, so this runs in the
sandbox like a candidate. As upstream does (reference-enam_evaluate.py): each test is made by
`random.seed(seed ^ problem ^ test)` then `generate_input(size, lid, cid)`, with datautils' names, `time`
and `math` in scope; the answer is the reference solution's result on a deep copy of the input.

Writes, tagged (tagged.py): inputs = count, then per test (level, size, args tuple); answers = per test
the answer. Prints `OK` or `ERROR <what failed>`.
"""

import copy
import json
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run with -I: tagged, datautils sit here
import datautils  # noqa: E402
import tagged  # noqa: E402


def main(request_path: str, inputs_path: str, answers_path: str) -> None:
    sys.setrecursionlimit(100_000)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    with open(request_path, encoding="utf-8") as file:
        request = json.load(file)
    tests, answers = [], []
    where = "the generator"
    try:
        solve = _function(request["prompt"] + "\n" + request["reference_solution"], request["entry_point"])
        test = 0
        for level, (size, count) in enumerate(zip(request["levels"], request["tests_per_level"], strict=True)):
            for case in range(count):
                where = f"level {level} case {case}"
                scope = {"time": time, "math": math, **vars(datautils)}
                exec(request["prompt"] + "\n" + request["input_generator"], scope)
                random.seed(request["seed"] ^ request["problem"] ^ test)
                args = tuple(scope["generate_input"](size=size, lid=level, cid=case))
                answers.append(solve(*copy.deepcopy(args)))
                tests.append((level, size, args))
                test += 1
        inputs_data = tagged.encode_all([len(tests), *tests])
        answers_data = tagged.encode_all(answers)
    except Exception as exc:  # dataset code: report what failed, never a traceback of ours
        print(f"ERROR {where}: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
        sys.exit(1)
    for path, data in ((inputs_path, inputs_data), (answers_path, answers_data)):
        with open(path, "wb") as file:
            file.write(data)
    print("OK", flush=True)


def _function(source: str, name: str):
    scope: dict = {"__name__": "__enamel__"}
    exec(source, scope)
    return scope[name]


if __name__ == "__main__":
    main(*sys.argv[1:4])
