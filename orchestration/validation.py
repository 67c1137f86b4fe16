"""How the pipeline checks a candidate file: a Validator builds and tests it, and can time it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .checking import get_toolchain
from .efficiency.verdict import is_faster, speedup
from .task import Limits, Program, Timing, Verdict

__all__ = ["ProgramValidator", "Validator", "is_faster", "same_code", "speedup"]


class Validator(Protocol):
    async def check(self, source: str) -> Verdict: ...

    async def measure(self, source: str) -> Timing: ...


@dataclass
class ProgramValidator:
    """Runs a candidate file against one test program with the language's toolchain (benchmark mode)."""

    language: str
    test: str
    test_setup: str = ""
    limits: Limits = Limits()
    runs: int = 5

    def _program(self, source: str) -> Program:
        return Program(self.language, source, self.test, self.test_setup)

    async def check(self, source: str) -> Verdict:
        return await get_toolchain(self.language).build_and_test(self._program(source), self.limits)

    async def measure(self, source: str) -> Timing:
        return await get_toolchain(self.language).measure(self._program(source), self.limits, self.runs)


def same_code(a: str, b: str) -> bool:
    """Equal but for whitespace: such a "refinement" cannot be faster, so it is not timed (timing it
    would only let noise call it faster)."""
    return a.split() == b.split()
