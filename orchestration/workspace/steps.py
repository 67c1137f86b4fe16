"""Running a language's commands: fetching with the network (trusted, once), everything else confined.

Confined steps run through the engine's sandbox as the calling user (the workspace's toolchain and its
caches live in the user's home, out of reach of the sandbox's throwaway uids): no network, a deadline
after which the process group is killed, and rlimits sized for compilers rather than for a test alone.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace

from ..checking.cache import run_trusted
from ..checking.sandbox import DATA_SEGMENT, Completed, Sandbox
from ..checking.toolchain import ToolchainUnavailable
from ..task import Limits
from .errors import WorkspaceError
from .project import Command

# Compilers and build tools write files far larger than a test's output limit (test binaries, rlibs)...
_BUILD_FILE_BYTES = 1 << 30
# ...and need memory of their own beside the tested code's (a JVM for Maven, rustc, cc1plus).
_TOOLCHAIN_MEMORY_MB = 1536
_FETCH_SECONDS = 900


def deadline(command: Command, limits: Limits) -> float:
    seconds = {"build": limits.build_seconds, "test": limits.wall_seconds}
    return seconds.get(command.phase, limits.build_seconds + limits.wall_seconds)


async def run_confined(box: Sandbox, command: Command, limits: Limits) -> Completed:
    confined = replace(limits, wall_seconds=deadline(command, limits), output_bytes=_BUILD_FILE_BYTES)
    return await box.run(
        command.argv,
        confined,
        memory_rlimit=DATA_SEGMENT,
        memory_headroom_mb=_TOOLCHAIN_MEMORY_MB,
        env={**os.environ, **command.env, "TMPDIR": str(box.run_dir)},
        cwd=command.cwd,
        as_caller=True,
    )


async def run_fetch(command: Command) -> None:
    """A dependency-resolving step, with the network; WorkspaceError with the tool's output if it fails."""
    try:
        await asyncio.to_thread(run_trusted, command.argv, cwd=command.cwd, env=command.env, timeout=_FETCH_SECONDS)
    except ToolchainUnavailable as exc:
        raise WorkspaceError(f"resolving the project's dependencies failed (network needed once):\n{exc}") from None
