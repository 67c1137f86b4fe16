"""The sandbox with real processes: limits, deadlines, cancellation, no network, nothing left behind."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import sys
import time

import pytest
from perforch.orchestration.checking.sandbox import (
    Sandbox,
    UidSlot,
    network_isolated,
    open_sandbox,
    uid_isolation,
    untrusted_can_start,
)
from perforch.orchestration.task import Limits
from process_watch import live_processes_with, unique_marker, wait_until_gone, wait_until_removed

QUICK = Limits(wall_seconds=5)
needs_uid_pool = pytest.mark.skipif(not uid_isolation(), reason="needs root: untrusted runs use throwaway uids")


@pytest.fixture(scope="module")
def python() -> str:
    """An interpreter the sandbox user may start (ours may live below a private home)."""
    for candidate in (sys.executable, shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")):
        if candidate and untrusted_can_start([candidate, "-c", "pass"]):
            return candidate
    pytest.skip("no python3 that the sandbox user can start")


async def run_shell(box: Sandbox, script: str, limits: Limits = QUICK):
    return await box.run(["/bin/sh", "-c", script], limits)


async def test_output_exit_code_and_cleanup() -> None:
    async with open_sandbox() as box:
        root = box.root
        done = await run_shell(box, "echo out; echo err >&2; exit 3")
        assert (done.exit_code, done.signal, done.timed_out) == (3, None, False)
        assert (done.stdout, done.stderr) == ("out\n", "err\n")
    assert wait_until_removed(root)


async def test_cpu_time_comes_from_rusage(python: str) -> None:
    """Relations between measurements, which a loaded machine does not change (no timing thresholds)."""
    async with open_sandbox() as box:
        light = await box.run([python, "-c", "sum(range(2_000_000))"], QUICK)
        heavy = await box.run([python, "-c", "sum(range(16_000_000))"], QUICK)
        in_child = await run_shell(box, f"{python} -c 'sum(range(16_000_000))'")  # the shell waits for it
        idle = await run_shell(box, "sleep 0.3")
    assert light.succeeded and heavy.succeeded and in_child.succeeded
    # The processes' own CPU time: it grows with the work, and one thread cannot use more than the wall time.
    assert 0 < light.cpu_seconds < heavy.cpu_seconds <= heavy.wall_seconds
    assert in_child.cpu_seconds > light.cpu_seconds  # children the command waited for count too
    assert idle.cpu_seconds < idle.wall_seconds / 2  # sleeping takes wall time, not CPU time


@needs_uid_pool
async def test_the_program_writes_only_its_run_dir() -> None:
    async with open_sandbox() as box:
        box.write("given.txt", "from the build")
        done = await run_shell(box, f"cat {box.build_dir}/given.txt && echo x > here.txt && echo x > {box.build_dir}/x")
        assert done.stdout == "from the build"
        assert (box.run_dir / "here.txt").exists()
        assert not (box.build_dir / "x").exists()
        assert done.exit_code != 0 and "Permission denied" in done.stderr


async def test_timeout_kills_the_whole_process_group() -> None:
    marker = f"6{time.time_ns() % 10**6}.5"  # a sleep time no other process uses
    async with open_sandbox() as box:
        started = time.monotonic()
        done = await run_shell(box, f"sleep {marker} & sleep {marker}", Limits(wall_seconds=0.5))
        assert done.timed_out and done.signal == signal.SIGKILL
        assert time.monotonic() - started < 2
    assert wait_until_gone(f"sleep {marker}") == []


@needs_uid_pool
async def test_a_process_that_leaves_the_group_is_killed_too() -> None:
    marker = f"7{time.time_ns() % 10**6}.5"
    async with open_sandbox() as box:
        done = await run_shell(box, f"setsid sleep {marker} > /dev/null 2>&1 & exit 0")
        assert done.succeeded
    assert wait_until_gone(f"sleep {marker}") == []


async def test_cancellation_kills_the_program() -> None:
    marker = f"8{time.time_ns() % 10**6}.5"
    async with open_sandbox() as box:
        root = box.root
        running = asyncio.ensure_future(run_shell(box, f"sleep {marker}", Limits(wall_seconds=30)))
        while not live_processes_with(f"sleep {marker}"):
            await asyncio.sleep(0.02)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert wait_until_gone(f"sleep {marker}") == []
    assert wait_until_removed(root)


async def test_output_beyond_the_limit_stops_the_program() -> None:
    async with open_sandbox() as box:
        done = await box.run(["yes"], Limits(wall_seconds=5, output_bytes=1 << 20))
    assert done.signal == signal.SIGXFSZ and done.output_capped and not done.timed_out
    assert len(done.stdout) < 200_000  # only the head and tail are read back


async def test_memory_limit(python: str) -> None:
    async with open_sandbox() as box:
        done = await box.run([python, "-c", "b = bytearray(600 * 2**20)"], Limits(memory_mb=200))
    assert done.exit_code == 1 and "MemoryError" in done.stderr


@needs_uid_pool
async def test_fork_bomb_is_bounded_and_cleaned_up() -> None:
    marker = unique_marker()
    bomb = f"bomb() {{ bomb | bomb & }}; bomb  # {marker}"
    async with open_sandbox() as box:
        started = time.monotonic()
        await run_shell(box, bomb, Limits(wall_seconds=2, processes=32))
        assert time.monotonic() - started < 5
    assert wait_until_gone(marker) == []


@pytest.mark.skipif(not network_isolated(), reason="this kernel refuses network namespaces")
async def test_no_network_for_the_program_but_for_the_build() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        connect = f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"
        async with open_sandbox() as box:
            untrusted = await box.run(["bash", "-c", connect], QUICK)
            trusted = await box.build(["bash", "-c", connect], seconds=5)
    assert untrusted.exit_code != 0 and "connected" not in untrusted.stdout
    assert trusted.succeeded and "connected" in trusted.stdout


async def test_parallel_runs_wait_for_a_cpu_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFORCH_JOBS", "1")  # read when this test's event loop makes its semaphore

    async def nap() -> None:
        async with open_sandbox() as box:
            await run_shell(box, "sleep 0.2")

    started = time.monotonic()
    await asyncio.gather(nap(), nap(), nap())
    assert time.monotonic() - started >= 0.6


async def test_scrub_leaves_bare_file_names() -> None:
    async with open_sandbox() as box:
        text = f"{box.build_dir}/main.cpp:3: error in {box.run_dir}/out.txt and {box.root}"
        assert box.scrub(text) == "main.cpp:3: error in out.txt and ."


@needs_uid_pool
def test_uid_slots_are_exclusive() -> None:
    first, second = UidSlot.acquire(), UidSlot.acquire()
    try:
        assert first.uid != second.uid
    finally:
        first.release()
        second.release()
