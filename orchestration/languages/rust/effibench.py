"""EffiBench-X programs in Rust, which upstream lacks: an io answer is a whole program (fn main reading
stdin), compiled as it is. Functional problems have no Rust runner in the data, so none is assembled."""

from __future__ import annotations


def program(kind: str, solution: str, runner: str | None, marker: str) -> str:
    if kind == "io":
        return solution
    if runner is None:
        raise LookupError("this functional EffiBench-X problem has no Rust runner (the data has none)")
    return runner.replace(marker, solution)
