"""perforch.cli: the `perforch` command, the composition root above the engine and the language server."""

from .commands import main

__all__ = ["main"]
