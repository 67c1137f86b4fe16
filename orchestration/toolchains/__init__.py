"""The five languages' toolchains behind one interface; one instance per language per process, so
warm state (a javac server, prepared caches) is shared by every caller."""

from __future__ import annotations

from importlib import import_module

from ..task import check_language
from .base import Toolchain, ToolchainUnavailable

# module and class per language, imported on first use: a Python-only user never loads the others
_IMPLEMENTATIONS = {
    "python": ("python", "PythonToolchain"),
    "java": ("java", "JavaToolchain"),
    "cpp": ("cpp", "CppToolchain"),
    "go": ("go", "GoToolchain"),
    "rust": ("rust", "RustToolchain"),
}
_instances: dict[str, Toolchain] = {}


def get_toolchain(language: str) -> Toolchain:
    """The process-wide toolchain for `language` ("C++", "golang", ... are accepted)."""
    name = check_language(language)
    if name not in _instances:
        module, cls = _IMPLEMENTATIONS[name]
        _instances[name] = getattr(import_module(f".{module}", __name__), cls)()
    return _instances[name]


async def close_all() -> None:
    """Stop warm helpers of every toolchain made so far; later calls make fresh instances."""
    instances = list(_instances.values())
    _instances.clear()
    for toolchain in instances:
        await toolchain.aclose()


__all__ = ["Toolchain", "ToolchainUnavailable", "close_all", "get_toolchain"]
