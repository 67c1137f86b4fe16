"""Run an untrusted command safely.

A `Sandbox` belongs to one candidate: a scratch directory, removed afterwards, whose top level only
trusted steps write and whose `run` subdirectory the untrusted program may write. Every command runs in
its own session (process group), with stdout and stderr going to files (no pipe can fill up and block),
under a wall-clock deadline enforced from asyncio: on timeout or cancellation the whole group is killed.

Trusted steps (`Sandbox.build`: compilers, import fixers) get only that; they are spawned with
subprocess.Popen (vfork) and os.wait4 in a worker thread. The untrusted step (`Sandbox.run`: the program
and its tests) also gets rlimits (memory, CPU seconds, file size, open files, processes), an empty
network namespace (nothing but a downed loopback) and, when we are root, a throwaway uid from a pool
(61000 and up, no passwd entry needed). Root ignores RLIMIT_NPROC, so the uid is what makes the process
limit bound a fork bomb; it also lets us kill every process of that uid afterwards, including those
that left the process group with setsid().

Untrusted commands are started by a small launcher process (sandbox_launcher.py), which lives in the
empty network namespace and applies rlimits and the uid between its fork and exec. A preexec_fn would do
the same from here, but forking this process (hundreds of MB once litellm is loaded) costs more than a
HumanEval test takes to run; the launcher forks in a fraction of a millisecond and reports each exit
with the child's rusage from wait4.

Without root we do the best available: no uid switch, so no RLIMIT_NPROC (it would count all of the
user's own processes) and only the process group is killed; the launcher cuts the network with a user
+ network namespace where the kernel allows unprivileged user namespaces, and otherwise a warning is
logged and programs keep the network.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import functools
import itertools
import json
import logging
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..helper_process import Handler, HelperDied, LineHelper, settle
from ..task import Limits

log = logging.getLogger(__name__)

SANDBOX_UID_BASE = 61000
SANDBOX_UID_COUNT = 1000
ADDRESS_SPACE = "RLIMIT_AS"
DATA_SEGMENT = "RLIMIT_DATA"
_EXCERPT_BYTES = 64 * 1024  # read at most this much of the head and of the tail of an output file
_OPEN_FILES = 1024
_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_TRUE = shutil.which("true", path=_SYSTEM_PATH) or "/bin/true"
_LAUNCHER = Path(__file__).with_name("sandbox_launcher.py")
# Scratch dirs whose removal waits for their uid's sweep; whatever is left at exit goes then.
_unremoved: set[Path] = set()
atexit.register(lambda: [shutil.rmtree(root, ignore_errors=True) for root in list(_unremoved)])

Exit = tuple[int, float]  # wait status, CPU seconds (user + sys)
Spawn = Callable[[Path, Path, Handler, Handler], None]  # start a command: stdout, stderr, on pid, on exit


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


# -- the launcher of untrusted commands ---------------------------------------------------------------


class _Launcher:
    """Client of sandbox_launcher.py: one per process, restarted when it dies."""

    def __init__(self) -> None:
        argv = [sys.executable, "-S", "-I", str(_LAUNCHER)]
        self._helper = LineHelper(argv, _parse_launcher_reply, on_start=self._read_greeting)
        self._ids = itertools.count()
        self.network_isolated = False

    def _read_greeting(self, process: subprocess.Popen[str]) -> None:
        greeting = json.loads(process.stdout.readline() or "{}")  # type: ignore[union-attr]
        self.network_isolated = bool(greeting.get("network_isolated"))
        if not self.network_isolated:
            log.warning("sandbox: no network namespace available; untrusted programs keep the network")

    def start(self, request: dict[str, Any], on_pid: Handler, on_exit: Handler) -> None:
        request_id = str(next(self._ids))
        line = json.dumps({"id": request_id, **request})
        self._helper.request(line, {f"{request_id}:pid": on_pid, f"{request_id}:exit": on_exit})

    def sweep(self, uid: int, then: Handler) -> None:
        """Kill every process of `uid`; `then` runs when that is done (or the launcher died)."""
        request_id = str(next(self._ids))
        self._helper.request(json.dumps({"id": request_id, "sweep": uid}), {f"{request_id}:exit": then})

    def ensure_started(self) -> None:
        self._helper.start()


def _parse_launcher_reply(line: str) -> tuple[str, Any]:
    reply = json.loads(line)
    if "pid" in reply:
        return f"{reply['id']}:pid", reply["pid"]
    return f"{reply['id']}:exit", (reply["status"], reply["cpu"])


@functools.cache
def _launcher() -> _Launcher:
    return _Launcher()


def network_isolated() -> bool:
    """Whether untrusted programs run without network on this machine."""
    _launcher().ensure_started()
    return _launcher().network_isolated


# -- the pool of throwaway uids -----------------------------------------------------------------------


@functools.cache
def uid_isolation() -> bool:
    """True when untrusted programs run under throwaway uids (we are root and may setuid)."""
    if os.geteuid() != 0:
        return False
    try:
        subprocess.run([_TRUE], user=SANDBOX_UID_BASE, group=SANDBOX_UID_BASE, extra_groups=[], check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("sandbox: root but cannot switch uid (%s); fork bombs are bounded by time only", exc)
        return False
    return True


def _kill_every_process_i_can_signal() -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)


def kill_everything_of(uid: int) -> None:
    """SIGKILL every process of `uid` now, from a child that has become `uid` (kill(-1) then reaches
    exactly that uid's processes, and spares the caller). For rare use: it forks this process."""
    subprocess.run([_TRUE], user=uid, group=uid, extra_groups=[], preexec_fn=_kill_every_process_i_can_signal)


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

    def release(self, swept: bool = True) -> None:
        """Let the uid go; unswept, it stays marked "held" so that its next holder sweeps it first."""
        if swept:
            os.pwrite(self._lock_fd, b"free", 0)
        os.close(self._lock_fd)

    def sweep_then_release(self, then: Callable[[], None]) -> None:
        """In the background: kill what of this uid still lives, release it, then call `then`."""

        def swept(result: Any) -> None:
            self.release(swept=not isinstance(result, HelperDied))
            then()

        _launcher().sweep(self.uid, then=swept)


def untrusted_can_start(argv: Sequence[str]) -> bool:
    """Whether `argv` starts under a sandbox uid (a runtime below a private home, like /root, does not)."""
    if not uid_isolation():
        return True
    slot = UidSlot.acquire()
    try:
        quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        done = subprocess.run(argv, user=slot.uid, group=slot.uid, extra_groups=[], timeout=60, **quiet)
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        kill_everything_of(slot.uid)
        slot.release()


# -- one command, from spawn to exit ------------------------------------------------------------------


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _ProcessGroup:
    """The group of a command being started: killable from the loop before its pid is even known.

    Its pid arrives from another thread (the Popen worker, the launcher's reply reader) and needs no
    trip through the event loop: nobody awaits it, it is only there to be killed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._killed = False

    def started(self, pid: Any) -> None:
        if isinstance(pid, BaseException):
            return  # the exit handler reports the failure
        with self._lock:
            self._pid = pid
            if self._killed:
                _kill_group(pid)

    def kill(self) -> None:
        """SIGKILL the group now, or as soon as it exists; again after exit, for what its leader left."""
        with self._lock:
            self._killed = True
            if self._pid is not None:
                _kill_group(self._pid)


def _spawn_and_wait(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    stdout: Path,
    stderr: Path,
    on_pid: Handler,
    on_exit: Handler,
) -> None:
    """A trusted command, in a worker thread: Popen (vfork), then wait4 for the child's own rusage."""
    try:
        with open(stdout, "wb", opener=_private) as out, open(stderr, "wb", opener=_private) as err:
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
            )
    except OSError as exc:
        on_pid(exc)
        on_exit(exc)
        return
    on_pid(process.pid)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    on_exit((status, usage.ru_utime + usage.ru_stime))


def _private(path: str, flags: int) -> int:
    """Open a file only its owner may read: a command's output can hold what it found in the environment."""
    return os.open(path, flags, 0o600)


async def _supervise(group: _ProcessGroup, finished: asyncio.Future[Exit], seconds: float) -> tuple[Exit, bool]:
    """Wait for the command to end or the deadline; its process group is killed on timeout, on
    cancellation, and afterwards (the group outlives its leader). Returns (exit, timed out)."""
    try:
        return await asyncio.wait_for(asyncio.shield(finished), seconds), False
    except asyncio.TimeoutError:
        group.kill()
        return await finished, True
    except asyncio.CancelledError:
        group.kill()
        with contextlib.suppress(BaseException):  # reap it, though our own task is being cancelled
            await finished
        raise
    finally:
        group.kill()


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


def _rlimits(limits: Limits, memory_rlimit: str, memory_bytes: int, count_processes: bool) -> dict[str, int]:
    values = {
        memory_rlimit: memory_bytes,
        "RLIMIT_CPU": math.ceil(limits.wall_seconds) + 1,  # a backstop; the wall clock acts first
        "RLIMIT_FSIZE": limits.output_bytes,
        "RLIMIT_NOFILE": _OPEN_FILES,
        "RLIMIT_CORE": 0,
    }
    if count_processes:
        values["RLIMIT_NPROC"] = limits.processes
    return values


# -- the sandbox --------------------------------------------------------------------------------------


class Sandbox:
    """Scratch space for one candidate, and the two ways to run commands in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.build_dir = root  # written by trusted steps only; readable by the program
        self.run_dir = root / "run"  # the untrusted program's working (and only writable) directory
        self._uid: UidSlot | None = None
        self._commands = 0

    @classmethod
    def create(cls, *, private: bool = False) -> Sandbox:
        """`private`: the scratch dir stays 0700 (its programs reach their run dir through a bind mount,
        not through the host's tree); otherwise the sandbox uid may read what was built, not write it."""
        box = cls(Path(tempfile.mkdtemp(prefix="perforch-")))
        box.root.chmod(0o700 if private else 0o755)
        box.run_dir.mkdir(mode=0o700)
        return box

    def close(self) -> None:
        """Kill the uid's leftovers, free the uid and remove the scratch dir, in the background (the
        launcher's reply thread): the verdict is known already, and these take longer than a short test."""
        if self._uid is None:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        _unremoved.add(self.root)
        self._uid.sweep_then_release(then=functools.partial(_remove_scratch, self.root))
        self._uid = None

    def write(self, name: str, text: str) -> Path:
        path = self.build_dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def scrub(self, text: str) -> str:
        """Output as a model should see it: scratch paths reduced to bare file names."""
        for directory in (self.run_dir, self.root):
            text = text.replace(f"{directory}/", "")
        return text.replace(str(self.root), ".")

    async def build(
        self,
        argv: Sequence[str],
        *,
        seconds: float,
        env: Mapping[str, str] | None = None,
    ) -> Completed:
        """A trusted step (compiler, formatter) in the build dir: a deadline and its own process group,
        no other confinement."""
        environment = {**os.environ, **(env or {})}

        def spawn(stdout: Path, stderr: Path, on_pid: Handler, on_exit: Handler) -> None:
            asyncio.get_running_loop().run_in_executor(
                None, _spawn_and_wait, argv, self.build_dir, environment, stdout, stderr, on_pid, on_exit
            )

        return await self._complete(spawn, seconds, output_cap=None)

    async def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        memory_rlimit: str = ADDRESS_SPACE,
        memory_headroom_mb: int = 0,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        as_caller: bool = False,
        count_processes: bool | None = None,
    ) -> Completed:
        """The untrusted program: confined as the module docstring says, in `run_dir`.

        Memory is bounded by address space by default; runtimes that reserve far more address space
        than they use (the JVM, Go) pass DATA_SEGMENT, with `memory_headroom_mb` for their own needs.

        `as_caller` keeps the calling user instead of a throwaway uid, and `cwd` runs elsewhere than in
        `run_dir`: for a workspace's own toolchain (Maven, cargo, go), which lives in the user's home and
        builds in a shadow copy the user owns. Deadline, rlimits and the empty network still apply.
        `count_processes` applies RLIMIT_NPROC even so: for a command that switches to `sandbox_uid()`
        itself (bubblewrap), whose fork bombs that limit then binds.
        """
        uid = None if as_caller else self.sandbox_uid()
        if count_processes is None:
            count_processes = uid is not None
        memory_bytes = (limits.memory_mb + memory_headroom_mb) * 1024 * 1024
        environment = {"PATH": _SYSTEM_PATH, "HOME": str(self.run_dir), "TMPDIR": str(self.run_dir)}
        # The launcher execs without a PATH search: the uid it has switched to may not read our Python.
        program = shutil.which(argv[0], path=_SYSTEM_PATH) if os.sep not in argv[0] else argv[0]
        request = {
            "argv": [program or argv[0], *argv[1:]],
            "cwd": str(cwd or self.run_dir),
            "env": {**environment, "LANG": "C.UTF-8", **(env or {})},
            "rlimits": _rlimits(limits, memory_rlimit, memory_bytes, count_processes),
            "uid": uid,
        }

        def spawn(stdout: Path, stderr: Path, on_pid: Handler, on_exit: Handler) -> None:
            _launcher().start({**request, "stdout": str(stdout), "stderr": str(stderr)}, on_pid, on_exit)

        return await self._complete(spawn, limits.wall_seconds, output_cap=limits.output_bytes)

    def sandbox_uid(self) -> int | None:
        """This box's throwaway uid (taken from the pool on first use, owner of `run_dir`); None when
        PerfOrch cannot switch uids (not root)."""
        if self._uid is None and uid_isolation():
            self._uid = UidSlot.acquire()
            os.chown(self.run_dir, self._uid.uid, self._uid.uid)
        return self._uid.uid if self._uid else None

    async def _complete(self, spawn: Spawn, seconds: float, *, output_cap: int | None) -> Completed:
        self._commands += 1
        stdout, stderr = (self.root / f".{self._commands}.{name}" for name in ("stdout", "stderr"))
        loop = asyncio.get_running_loop()
        group = _ProcessGroup()
        finished: asyncio.Future[Exit] = loop.create_future()
        started = time.monotonic()
        async with cpu_slot():
            spawn(stdout, stderr, group.started, settle(loop, finished))
            try:
                (status, cpu_seconds), timed_out = await _supervise(group, finished, seconds)
            except HelperDied as exc:
                return _supervisor_died(exc, time.monotonic() - started)
        capped = output_cap is not None and max(stdout.stat().st_size, stderr.stat().st_size) >= output_cap
        return Completed(
            exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            timed_out=timed_out,
            cpu_seconds=cpu_seconds,
            wall_seconds=time.monotonic() - started,
            stdout=_read_excerpt(stdout),
            stderr=_read_excerpt(stderr),
            output_capped=capped,
        )


def _supervisor_died(exc: HelperDied, wall_seconds: float) -> Completed:
    """A command whose launcher died under it (killed from inside the sandbox, or by the OOM killer): a
    failed run that says so, never an exception that ends PerfOrch."""
    reason = f"sandbox: the launcher supervising this command died ({exc}); the command was stopped"
    return Completed(None, signal.SIGKILL, False, 0.0, wall_seconds, "", reason, False)


def _remove_scratch(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    _unremoved.discard(root)


@contextlib.asynccontextmanager
async def open_sandbox(*, private: bool = False) -> AsyncIterator[Sandbox]:
    """A fresh Sandbox, removed (and its uid released) when the block ends, however it ends."""
    box = Sandbox.create(private=private)
    try:
        yield box
    finally:
        box.close()
