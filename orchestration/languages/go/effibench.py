"""EffiBench-X programs in Go: io answers as they are; functional ones inside the problem's runner, with
the package clause and imports of answer and runner merged into one block (goimports, run by the harness
build, then drops what is unused, as upstream's fixed import prelude would otherwise fail to compile)."""

from __future__ import annotations

from .benchmark import split_imports

PRELUDE_IMPORTS = (
    '"io"', '"os"', '"fmt"', '"math"', '"sort"', '"time"', '"bufio"', '"regexp"', '"reflect"', '"strings"',
    '"strconv"', '"math/big"', '"math/bits"', '"math/rand"', '"container/heap"', '"container/list"',
)  # fmt: skip


def program(kind: str, solution: str, runner: str | None, marker: str) -> str:
    if kind == "io":
        return solution
    solution_imports, code = split_imports(solution)
    runner_imports, frame = split_imports(runner or marker)
    specs = dict.fromkeys([*PRELUDE_IMPORTS, *solution_imports, *runner_imports])
    block = "".join(f"    {spec}\n" for spec in specs)
    return f"package main\n\nimport (\n{block})\n\n" + frame.replace(marker, code.strip("\n"))
