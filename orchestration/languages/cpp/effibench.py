"""EffiBench-X programs in C++: io answers as they are; functional ones inside the problem's runner after
upstream's include prelude."""

from __future__ import annotations

_HEADERS = [
    "iostream",
    "algorithm",
    "array",
    "bitset",
    "cassert",
    "cmath",
    "complex",
    "cstdio",
    "cstring",
    "deque",
    "forward_list",
    "functional",
    "iomanip",
    "map",
    "numeric",
    "queue",
    "set",
    "stack",
    "unordered_map",
    "unordered_set",
    "vector",
    "string",
    "list",
    "fstream",
    "sstream",
    "iterator",
    "random",
    "chrono",
    "memory",
    "thread",
    "mutex",
    "utility",
    "climits",
    "tuple",
    "cstdlib",
    "cctype",
]
PRELUDE = "".join(f"#include <{header}>\n" for header in _HEADERS) + "\nusing namespace std;\n"


def program(kind: str, solution: str, runner: str | None, marker: str) -> str:
    if kind == "io":
        return solution
    return PRELUDE + "\n\n" + (runner or marker).replace(marker, solution)
