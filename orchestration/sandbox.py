"""Run an untrusted command safely.

A `Sandbox` belongs to one candidate: a scratch directory, removed afterwards, with a `build` area that
only trusted steps write and a `run` area that the untrusted program may write. Every command runs in its
own session (process group), with stdout and stderr going to files (no pipe can fill up and block), under
a wall-clock deadline enforced from asyncio: on timeout or cancellation the whole group is killed.

Trusted steps (`Sandbox.build`: compilers, import fixers) get only that. The untrusted step
(`Sandbox.run`: the program and its tests) also gets rlimits (memory, CPU seconds, file size, open files,
processes), an empty network namespace (nothing but a downed loopback) and, when we are root, a
throwaway uid from a pool (61000 and up, no passwd entry needed). Root ignores RLIMIT_NPROC, so the uid
is what makes the process limit bound a fork bomb; it also lets us kill every process of that uid
afterwards, including those that left the process group with setsid().

The confinement is applied by util-linux (`prlimit`, then `nsenter` into one network namespace kept
open by this process, becoming the sandbox uid on the way), not by a Python preexec_fn: a preexec_fn
forces fork() of our whole process, which costs more than the short HumanEval programs themselves,
while plain commands are spawned with vfork().

Without root we do the best available: no uid switch, so no RLIMIT_NPROC (it would count all of the
user's own processes) and only the process group is killed; the network is cut with `unshare --user
--net` where the kernel allows unprivileged user namespaces, and otherwise a warning is logged once
and the program keeps the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .task import Limits

log = logging.getLogger(__name__)

SANDBOX_UID_BASE = 61000
SANDBOX_UID_COUNT = 1000
_EXCERPT_BYTES = 64 * 1024  # read at most this much of the head and of the tail of an output file
_OPEN_FILES = 1024
ADDRESS_SPACE = "as"  # prlimit's names for RLIMIT_AS and RLIMIT_DATA
DATA_SEGMENT = "data"
_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_TRUE = shutil.which("true", path=_SYSTEM_PATH) or "/bin/true"


@dataclass(frozen=True)
class Completed:
    """How one command ended."""

    exit_code: int | None  # None when a signal ended it
    signal: int | None
    timed_out: bool
    cpu_seconds: float  # user + sys of the command and the children it waited for (rusage)
    wall_seconds: float
    stdout: str  # head and tail of what it wrote, decoded leniently
    stderr: str
    output_capped: bool  # stdout or stderr reached the file-size limit

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def output(self) -> str:
        return self.stderr + self.stdout if self.stderr and self.stdout else self.stderr or self.stdout


# -- how many commands run at once ------------------------------------------------------------------


def max_parallel() -> int:
    """Commands allowed to run at once: PERFORCH_JOBS, else the CPUs this process may use."""
    configured = os.environ.get("PERFORCH_JOBS", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else len(os.sched_getaffinity(0))


# One semaphore per event loop: asyncio primitives are bound to the loop that first used them, and a
# process may run several loops one after another (tests, CLI commands).
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def cpu_slot() -> AsyncIterator[None]:
    """Hold one of `max_parallel()` slots, so parallel evaluation does not oversubscribe the CPUs."""
    loop = asyncio.get_running_loop()
    semaphore = _slots.get(loop)
    if semaphore is None:
        semaphore = _slots[loop] = asyncio.Semaphore(max_parallel())
    async with semaphore:
        yield


# -- what this machine lets us do, found out once per process ---------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name, path=_SYSTEM_PATH)
    if path is None:
        raise RuntimeError(f"the sandbox needs {name} (util-linux) on {_SYSTEM_PATH}")
    return path


def _running_as_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def _shared_network_namespace() -> int | None:
    """An fd of an empty network namespace that all untrusted runs of this process enter (root only).

    Made once by a short-lived `unshare --net` holder; our open fd keeps the namespace alive after it
    exits. Entering an existing namespace is nearly free; making one per run costs milliseconds.
    """
    if not _running_as_root():
        return None
    ours = os.readlink("/proc/self/ns/net")
    holder = subprocess.Popen([_tool("unshare"), "--net", "--", _tool("sleep"), "60"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while holder.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):  # not exec'd yet
                if os.readlink(f"/proc/{holder.pid}/ns/net") != ours:
                    return os.open(f"/proc/{holder.pid}/ns/net", os.O_RDONLY)
            time.sleep(0.001)
    finally:
        holder.kill()
        holder.wait()
    log.warning("sandbox: cannot create a network namespace; untrusted programs keep the network")
    return None


@functools.cache
def _user_namespaces_allowed() -> bool:
    """Whether `unshare --user --net` works for us (the network cut without root)."""
    try:
        subprocess.run([_tool("unshare"), "--user", "--net", "--", _TRUE], check=True, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        log.warning("sandbox: no user namespaces for a non-root user; untrusted programs keep the network")
        return False
    return True


def network_isolated() -> bool:
    """Whether untrusted programs run without network on this machine."""
    return _shared_network_namespace() is not None or (not _running_as_root() and _user_namespaces_allowed())


@functools.cache
def uid_isolation() -> bool:
    """True when untrusted programs run under throwaway uids (we are root and may setuid)."""
    if not _running_as_root():
        return False
    try:
        subprocess.run(_become(SANDBOX_UID_BASE) + [_TRUE], check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("sandbox: root but cannot switch uid (%s); fork bombs are bounded by time only", exc)
        return False
    return True


def _become(uid: int) -> list[str]:
    return [_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


def _isolation(uid: int | None) -> list[str]:
    """The argv prefix that cuts the network and switches to `uid`, as far as this machine allows."""
    namespace = _shared_network_namespace()
    if namespace is not None:
        identity = ["-S", str(uid), "-G", str(uid)] if uid is not None else []
        return [_tool("nsenter"), f"--net=/proc/{os.getpid()}/fd/{namespace}", *identity, "--"]
    if uid is not None:
        return _become(uid)
    return [_tool("unshare"), "--user", "--net", "--"] if _user_namespaces_allowed() else []


def _rlimits(limits: Limits, memory_rlimit: str, memory_bytes: int, count_processes: bool) -> list[str]:
    """`prlimit` setting both soft and hard limits, so the program cannot raise them again."""
    values = {
        memory_rlimit: memory_bytes,
        "cpu": math.ceil(limits.wall_seconds) + 1,  # a backstop; the wall clock acts first
        "fsize": limits.output_bytes,
        "nofile": _OPEN_FILES,
        "core": 0,
    }
    if count_processes:
        values["nproc"] = limits.processes
    return [_tool("prlimit"), *(f"--{name}={value}" for name, value in values.items()), "--"]


def kill_everything_of(uid: int) -> None:
    """SIGKILL every process owned by `uid`, from a shell that has become `uid`: kill(-1) then reaches
    exactly that uid's processes, and on Linux spares the caller."""
    subprocess.run(_become(uid) + ["/bin/sh", "-c", "kill -9 -1"], stderr=subprocess.DEVNULL, check=False)


# -- the pool of throwaway uids -----------------------------------------------------------------------


class UidSlot:
    """One uid of the pool, held by this process through an flock until released.

    Locks live in the temp dir, so concurrent PerfOrch processes (several test runs on one machine)
    never share a uid, and a lock dies with its process. Slots are handed out round-robin: processes
    killed a moment ago may linger as zombies until init reaps them, and they still count against
    RLIMIT_NPROC of their uid. The lock file says "held" while in use; a new holder that finds "held"
    knows the last one died mid-run and first kills what it left behind.
    """

    _next = random.randrange(SANDBOX_UID_COUNT)
    _next_lock = threading.Lock()

    def __init__(self, uid: int, lock_fd: int) -> None:
        self.uid = uid
        self._lock_fd = lock_fd

    @classmethod
    def acquire(cls) -> UidSlot:
        directory = Path(tempfile.gettempdir()) / "perforch-sandbox-uids"
        directory.mkdir(mode=0o700, exist_ok=True)
        for _ in range(SANDBOX_UID_COUNT):
            uid = SANDBOX_UID_BASE + cls._take_next_index()
            fd = os.open(directory / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if os.pread(fd, 4, 0) == b"held":
                kill_everything_of(uid)
            os.pwrite(fd, b"held", 0)
            return cls(uid, fd)
        raise RuntimeError(f"all {SANDBOX_UID_COUNT} sandbox uids are in use")

    @classmethod
    def _take_next_index(cls) -> int:
        with cls._next_lock:
            index = cls._next
            cls._next = (index + 1) % SANDBOX_UID_COUNT
            return index

    def sweep_and_release(self) -> None:
        """Kill whatever of this uid still lives, then let the uid go."""
        kill_everything_of(self.uid)
        os.pwrite(self._lock_fd, b"free", 0)
        os.close(self._lock_fd)


def untrusted_can_start(argv: Sequence[str]) -> bool:
    """Whether `argv` starts under a sandbox uid (a runtime below a private home, like /root, does not)."""
    if not uid_isolation():
        return True
    slot = UidSlot.acquire()
    try:
        quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        return subprocess.run([*_isolation(slot.uid), *argv], timeout=60, **quiet).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        slot.sweep_and_release()


# -- one process, from spawn to rusage ----------------------------------------------------------------


class _Child:
    """A spawned command as both sides see it: the worker thread that waits for it, the loop that kills it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._kill_requested = False

    def started(self, pid: int) -> None:
        with self._lock:
            self._pid = pid
            if self._kill_requested:
                _kill_group(pid)

    def kill(self) -> None:
        """Kill its process group; the group outlives its leader, so this also sweeps up after exit."""
        with self._lock:
            self._kill_requested = True
            if self._pid is not None:
                _kill_group(self._pid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _spawn_and_wait(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    stdout: Path,
    stderr: Path,
    child: _Child,
) -> tuple[int, resource.struct_rusage]:
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    child.started(process.pid)
    # wait4 rather than Popen.wait: it hands back the child's own rusage.
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return status, usage


async def _execute(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout: Path,
    stderr: Path,
    seconds: float,
) -> tuple[int, resource.struct_rusage, bool, float]:
    """Run to completion or deadline: (wait status, rusage, timed out, wall seconds)."""
    child = _Child()
    started = time.monotonic()
    worker = asyncio.ensure_future(asyncio.to_thread(_spawn_and_wait, argv, cwd, env, stdout, stderr, child))
    timed_out = False
    try:
        status, usage = await asyncio.wait_for(asyncio.shield(worker), seconds)
    except asyncio.TimeoutError:
        timed_out = True
        child.kill()
        status, usage = await worker
    except asyncio.CancelledError:
        child.kill()
        with contextlib.suppress(BaseException):  # reap it, though our own task is being cancelled
            await worker
        raise
    finally:
        child.kill()
    return status, usage, timed_out, time.monotonic() - started


def _read_excerpt(path: Path) -> str:
    """The whole file when small, else its head and tail: enough for diagnostics, bounded in memory."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size <= 2 * _EXCERPT_BYTES:
            data = file.read()
        else:
            head = file.read(_EXCERPT_BYTES)
            file.seek(size - _EXCERPT_BYTES)
            data = head + f"\n[... {size - 2 * _EXCERPT_BYTES} bytes left out ...]\n".encode() + file.read()
    return data.decode("utf-8", errors="replace")


# -- the sandbox --------------------------------------------------------------------------------------


class Sandbox:
    """Scratch space for one candidate, and the two ways to run commands in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.build_dir = root / "build"  # written by trusted steps only; readable by the program
        self.run_dir = root / "run"  # the untrusted program's working (and only writable) directory
        self._uid: UidSlot | None = None
        self._runs = 0

    @classmethod
    def create(cls) -> Sandbox:
        root = Path(tempfile.mkdtemp(prefix="perforch-"))
        root.chmod(0o711)  # the sandbox uid may pass through, not list or write
        box = cls(root)
        box.build_dir.mkdir(mode=0o755)
        box.run_dir.mkdir(mode=0o700)
        return box

    def close(self) -> None:
        """Remove the scratch dir; the uid's leftovers are killed, and the uid freed, in the background."""
        if self._uid is not None:
            threading.Thread(target=self._uid.sweep_and_release, name="sandbox-sweep").start()
            self._uid = None
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, name: str, text: str) -> Path:
        path = self.build_dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def scrub(self, text: str) -> str:
        """Output as a model should see it: scratch paths reduced to bare file names."""
        for directory in (self.build_dir, self.run_dir, self.root):
            text = text.replace(f"{directory}/", "")
        return text.replace(str(self.root), ".")

    async def build(
        self,
        argv: Sequence[str],
        *,
        seconds: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Completed:
        """A trusted step (compiler, formatter): deadline and own process group, no other confinement."""
        environment = {**os.environ, **(env or {})}
        return await self._complete(argv, cwd or self.build_dir, environment, seconds, output_cap=None)

    async def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        memory_rlimit: str = ADDRESS_SPACE,
        memory_headroom_mb: int = 0,
        env: Mapping[str, str] | None = None,
    ) -> Completed:
        """The untrusted program: confined as the module docstring says, in `run_dir`.

        Memory is bounded by address space by default; runtimes that reserve far more address space
        than they use (the JVM, Go) pass DATA_SEGMENT, with `memory_headroom_mb` for their own needs.
        """
        uid = self._sandbox_uid()
        memory_bytes = (limits.memory_mb + memory_headroom_mb) * 1024 * 1024
        confined = [*_rlimits(limits, memory_rlimit, memory_bytes, uid is not None), *_isolation(uid), *argv]
        environment = {"PATH": _SYSTEM_PATH, "HOME": str(self.run_dir), "TMPDIR": str(self.run_dir)}
        environment.update({"LANG": "C.UTF-8", **(env or {})})
        return await self._complete(
            confined, self.run_dir, environment, limits.wall_seconds, output_cap=limits.output_bytes
        )

    def _sandbox_uid(self) -> int | None:
        if self._uid is None and uid_isolation():
            self._uid = UidSlot.acquire()
            os.chown(self.run_dir, self._uid.uid, self._uid.uid)
        return self._uid.uid if self._uid else None

    async def _complete(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        seconds: float,
        *,
        output_cap: int | None,
    ) -> Completed:
        self._runs += 1
        stdout = self.root / f"{self._runs}.stdout"
        stderr = self.root / f"{self._runs}.stderr"
        async with cpu_slot():
            status, usage, timed_out, wall = await _execute(
                argv,
                cwd=cwd,
                env=env,
                stdout=stdout,
                stderr=stderr,
                seconds=seconds,
            )
        capped = output_cap is not None and max(stdout.stat().st_size, stderr.stat().st_size) >= output_cap
        return Completed(
            exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            timed_out=timed_out,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            wall_seconds=wall,
            stdout=_read_excerpt(stdout),
            stderr=_read_excerpt(stderr),
            output_capped=capped,
        )


@contextlib.asynccontextmanager
async def open_sandbox() -> AsyncIterator[Sandbox]:
    """A fresh Sandbox, removed (and its uid released) when the block ends, however it ends."""
    box = Sandbox.create()
    try:
        yield box
    finally:
        box.close()
