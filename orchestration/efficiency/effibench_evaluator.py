"""Run an EffiBench-X problem's `evaluator` (code from the data) on one run's outputs; executed in the sandbox.

argv: a JSON file {"evaluator": source, "pairs": [[expected, output], ...]}. Prints one JSON line: the
verdict per pair (true/false). Once the file is read, an audit hook refuses every file open, process start
and socket, so an evaluator can only compute; loops are stopped by the sandbox's deadline.
"""

import collections  # noqa: F401  (imported before the hook: evaluators use them and cannot open files after)
import decimal  # noqa: F401
import fractions  # noqa: F401
import itertools  # noqa: F401
import json
import math  # noqa: F401
import re  # noqa: F401
import sys

_REFUSED = ("open", "os.", "subprocess.", "socket.", "shutil.", "ctypes.", "pty.", "mmap.")


def _refuse(event: str, args: tuple) -> None:
    if event.startswith(_REFUSED):
        raise PermissionError(f"the evaluator may not {event}")


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as file:
        job = json.load(file)
    namespace: dict = {"__name__": "effibench_evaluator"}
    code = compile(job["evaluator"], "evaluator.py", "exec")
    sys.addaudithook(_refuse)
    exec(code, namespace)
    evaluate = namespace["evaluate"]
    verdicts = []
    for expected, output in job["pairs"]:
        try:
            verdicts.append(evaluate(expected, output) is True)
        except Exception:  # a crash on this output is a rejection, not a harness failure
            verdicts.append(False)
    sys.stdout.write(json.dumps(verdicts) + "\n")


main()
