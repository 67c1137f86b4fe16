"""Written by PerfOrch into its shadow copy of a project (never into the user's files) as `_perforch_timer`:
times each outermost call the tests make to one function, around the call only, and records the call's
arguments and result, one line per call appended to the file $PERFORCH_CALLS names.

A line: test, nanoseconds, arguments, result, tab-separated and escaped; a value is "=" and its repr, "#" and
the repr's sha256 when the repr is long, or "!" when it has none."""

import functools
import hashlib
import os
import sys
import threading
import time

_LOG = os.environ.get("PERFORCH_CALLS", "")
_LONGEST_REPR = 10_000
_inside = threading.local()


def timed(function):
    """`function`, timed; as it is when no calls file is named (a run that only checks)."""
    if isinstance(function, (staticmethod, classmethod)):
        return type(function)(timed(function.__func__))
    if not _LOG:
        return function

    @functools.wraps(function)
    def timer(*args, **kwargs):
        if getattr(_inside, "depth", 0):  # a recursive call: only the outermost one is timed
            return function(*args, **kwargs)
        arguments = _arguments(args, kwargs)  # before the call, which may change them
        _inside.depth = 1
        started = time.perf_counter_ns()
        try:
            result = function(*args, **kwargs)
            elapsed = time.perf_counter_ns() - started
        except BaseException as error:
            _record(time.perf_counter_ns() - started, arguments, "=raise " + type(error).__name__)
            raise
        finally:
            _inside.depth = 0
        _record(elapsed, arguments, _shown(result))
        return result

    return timer


def _arguments(args, kwargs):
    try:
        shown = [repr(value) for value in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    except Exception:
        return "!"
    return _bounded(", ".join(shown))


def _shown(value):
    try:
        return _bounded(repr(value))
    except Exception:
        return "!"


def _bounded(text):
    if len(text) > _LONGEST_REPR:
        return "#" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return "=" + text


def _test():
    """The test making the call: pytest names it; else the nearest caller whose name starts with "test"."""
    current = os.environ.get("PYTEST_CURRENT_TEST")
    if current:
        return current.rsplit(" (", 1)[0]
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name.startswith("test"):
            return f"{os.path.basename(frame.f_code.co_filename)}::{frame.f_code.co_name}"
        frame = frame.f_back
    return "(tests)"


def _escaped(text):
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _record(elapsed, arguments, result):
    line = "\t".join([_escaped(_test()), str(elapsed), _escaped(arguments), _escaped(result)])
    with open(_LOG, "a", encoding="utf-8", errors="backslashreplace") as log:
        log.write(line + "\n")
