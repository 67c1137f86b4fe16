"""The one base of every error a user sees: the CLI and the language server each catch it in one place.

`exit_code` is what `perforch` exits with: 2 when the request itself cannot be carried out as asked
(bad usage, a bad config or profile), 1 when it was understood but failed (no workspace, a failed pull).
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class PerfOrchError(Exception):
    """An error whose message names the cause and the fix; shown to the user as it is."""

    exit_code: int = EXIT_USAGE


class FailedError(PerfOrchError):
    """The request was understood, but carrying it out failed."""

    exit_code = EXIT_FAILED
