"""Checking a candidate, the same for every language: the sandbox and its launcher, the shared
build/run/judge flow of benchmark programs, the cache of prepared toolchains, and diagnostics.

The languages' benchmark toolchains come from here, one instance per language per process, so warm
state (a javac server, prepared caches) is shared by every caller."""

from __future__ import annotations

from collections.abc import Iterable

from ..languages import LANGUAGES, language_spec
from .buildrun import BuildRunToolchain
from .toolchain import Toolchain, ToolchainUnavailable

_instances: dict[str, Toolchain] = {}


def get_toolchain(language: str) -> Toolchain:
    """The process-wide toolchain for `language` ("C++", "golang", ... are accepted)."""
    spec = language_spec(language)  # its toolchain module is imported on first use
    if spec.name not in _instances:
        _instances[spec.name] = spec.toolchain()()
    return _instances[spec.name]


async def prepare_all(languages: Iterable[str] = LANGUAGES) -> None:
    """Do the toolchains' one-time set-up now rather than at the first candidate: on a fresh machine
    that downloads and builds the Rust crates, the Go modules and goimports (network needed once)."""
    for language in languages:
        toolchain = get_toolchain(language)
        if isinstance(toolchain, BuildRunToolchain):
            await toolchain.ensure_prepared()


async def close_all() -> None:
    """Stop warm helpers of every toolchain made so far; later calls make fresh instances."""
    instances = list(_instances.values())
    _instances.clear()
    for toolchain in instances:
        await toolchain.aclose()


__all__ = ["Toolchain", "ToolchainUnavailable", "close_all", "get_toolchain", "prepare_all"]
