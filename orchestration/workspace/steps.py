"""Running a language's commands confined (fetching, trusted and with the network, is in fetching.py).

Confined steps run through the engine's sandbox as the calling user (the workspace's toolchain and its
caches live in the user's home, out of reach of the sandbox's throwaway uids): no network, a deadline
after which the process group is killed, and rlimits sized for compilers rather than for a test alone.
"""

from __future__ import annotations

import os
from dataclasses import replace

from ..checking.sandbox import DATA_SEGMENT, Completed, Sandbox
from ..task import Limits
from .project import Command

# Compilers and build tools write files far larger than a test's output limit (test binaries, rlibs)...
_BUILD_FILE_BYTES = 1 << 30
# ...and need memory of their own beside the tested code's (a JVM for Maven, rustc, cc1plus).
_TOOLCHAIN_MEMORY_MB = 1536


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
