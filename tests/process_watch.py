"""Find live processes by a marker in their command line: how the sandbox tests see what is left behind."""

from __future__ import annotations

import time
import uuid
from pathlib import Path


def unique_marker() -> str:
    return f"perforch-test-{uuid.uuid4().hex[:12]}"


def live_processes_with(marker: str) -> list[int]:
    """Pids of processes (not zombies) whose command line or working directory contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = str((entry / "cwd").readlink()) if marker not in cmdline else ""
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z" and (marker in cmdline or marker in cwd):
            found.append(int(entry.name))
    return found


def wait_until_gone(marker: str, seconds: float = 3.0) -> list[int]:
    """The processes still alive after `seconds` (SIGKILL is delivered, not awaited, by the sandbox)."""
    deadline = time.monotonic() + seconds
    while (alive := live_processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def wait_until_removed(path: Path, seconds: float = 3.0) -> bool:
    """Whether `path` is gone within `seconds` (the sandbox removes its scratch dir in the background)."""
    deadline = time.monotonic() + seconds
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not path.exists()
