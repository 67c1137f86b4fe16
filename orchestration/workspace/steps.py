"""Running a language's commands confined (fetching, trusted and with the network, is in fetching.py).

Confined steps are started by the engine's sandbox (a deadline after which they are killed, rlimits sized
for compilers rather than for a test alone) inside a bubblewrap `Jail` (see jail.py): the user's files out
of reach, no network, no keys, nothing left running. Without a jail ([sandbox] mode = "none", the user's
explicit choice) they run as the calling user in the shadow copy with its environment, as before.
"""

from __future__ import annotations

import os
from dataclasses import replace

from ..checking.sandbox import DATA_SEGMENT, Completed, Sandbox
from ..task import Limits
from .jail import Jail, signal_of
from .project import Command

# Compilers and build tools write files far larger than a test's output limit (test binaries, rlibs)...
BUILD_FILE_BYTES = 1 << 30
# ...and need memory of their own beside the tested code's (a JVM for Maven, rustc, cc1plus)...
TOOLCHAIN_MEMORY_MB = 1536
# ...and threads: a JVM starts dozens, Maven forks another JVM for the tests, cargo runs jobs in parallel.
TOOLCHAIN_PROCESSES = 192


def deadline(command: Command, limits: Limits) -> float:
    seconds = {"build": limits.build_seconds, "test": limits.wall_seconds}
    return seconds.get(command.phase, limits.build_seconds + limits.wall_seconds)


async def run_confined(box: Sandbox, jail: Jail | None, command: Command, limits: Limits) -> Completed:
    # A step that only runs tests keeps the documented output limit; one that builds needs room for binaries.
    file_bytes = limits.output_bytes if command.phase == "test" else BUILD_FILE_BYTES
    processes = limits.processes + TOOLCHAIN_PROCESSES
    confined = replace(limits, wall_seconds=deadline(command, limits), output_bytes=file_bytes, processes=processes)
    if jail is None:
        environment, argv = {**os.environ, **command.env, "TMPDIR": str(box.run_dir)}, list(command.argv)
    else:
        environment, argv = {}, jail.argv(command)  # bwrap gets none of our variables, and passes on few
    run = await box.run(
        argv,
        confined,
        memory_rlimit=DATA_SEGMENT,
        memory_headroom_mb=TOOLCHAIN_MEMORY_MB,
        env=environment,
        cwd=command.cwd,
        as_caller=True,  # bwrap needs root to build the walls; setpriv then drops to the box's uid
        count_processes=jail is not None and jail.uid is not None,
    )
    killed_by = signal_of(run.exit_code) if jail is not None else None
    return replace(run, exit_code=None, signal=killed_by) if killed_by else run
