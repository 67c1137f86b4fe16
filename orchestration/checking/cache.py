"""The cache directory where toolchains keep what they prepare once (crates, Go modules, a PCH, the
javac server), and the one-time, cross-process preparation of its subdirectories."""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import platformdirs

from .toolchain import ToolchainUnavailable

_COMPLETE = ".complete"


def cache_root() -> Path:
    """PERFORCH_CACHE_DIR, else the platform's user cache dir for "perforch"."""
    return Path(os.environ.get("PERFORCH_CACHE_DIR") or platformdirs.user_cache_dir("perforch"))


def prepared_dir(name: str, prepare: Callable[[Path], None]) -> Path:
    """`cache_root()/name`, filled by `prepare(directory)` the first time it is asked for.

    One process prepares while the others wait on a lock file; a directory counts only once `prepare`
    has returned, so one left half-done by a crash is wiped and made again.
    """
    directory = cache_root() / name
    if (directory / _COMPLETE).exists():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f"{directory.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / _COMPLETE).exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            prepare(directory)
            (directory / _COMPLETE).touch()
    return directory


@functools.cache
def tool_version(*argv: str) -> str:
    """A short, file-name-safe version tag from `argv` (e.g. `rustc --version`), for cache dir names."""
    text = run_trusted(argv).strip().splitlines()[0]
    return re.sub(r"[^\w.+-]+", "-", text).strip("-")[:60]


def run_trusted(
    argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 900
) -> str:
    """Run a preparation step (trusted, may use the network); its output, or ToolchainUnavailable."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainUnavailable(f"{argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise ToolchainUnavailable(f"{' '.join(argv)} failed:\n{(done.stderr or done.stdout)[-3000:]}")
    return done.stdout + done.stderr
