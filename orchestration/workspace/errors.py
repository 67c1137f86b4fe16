"""The one error the workspace side raises to its callers."""

from __future__ import annotations

from ..errors import FailedError


class WorkspaceError(FailedError):
    """The file is not in a workspace PerfOrch can test, or preparing it failed; the message says how to fix it."""
