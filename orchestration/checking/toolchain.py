"""One interface over the languages' benchmark toolchains: build and test a Program, or time it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ..task import Limits, Program, Timing, Verdict

if TYPE_CHECKING:
    from ..languages import LanguageSpec


class Toolchain(ABC):
    spec: LanguageSpec

    @property
    def language(self) -> str:
        return self.spec.name

    @abstractmethod
    async def build_and_test(self, program: Program, limits: Limits) -> Verdict:
        """Build the program in a fresh sandbox, run its tests, and say how it went."""

    @abstractmethod
    async def measure(self, program: Program, limits: Limits, runs: int = 5) -> Timing:
        """Build once, run the tests once to warm up, then `runs` times; CPU time per run from rusage.

        A program that does not build or fails a run has no timing: the result is an empty Timing.
        """

    async def aclose(self) -> None:  # noqa: B027 (optional: most toolchains hold nothing warm)
        """Release warm helpers (compile servers, caches held open)."""


class ToolchainUnavailable(RuntimeError):
    """The language's compiler or runtime is missing, or its one-time preparation failed."""
