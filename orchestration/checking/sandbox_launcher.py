"""The sandbox's launcher: a small, long-lived process that starts confined commands (see sandbox.py).

Run as `python3 -S -I sandbox_launcher.py` by the sandbox, never imported: it uses the standard library
only. At start it moves itself into an empty network namespace, so every command it starts has no
network, and says so in its first line: {"network_isolated": true|false}.

Why a process of its own: applying rlimits and a uid switch between fork and exec needs Python code in
the child, and forking our main process (hundreds of MB with litellm loaded) costs more than a whole
HumanEval test; forking this small, single-threaded one costs a fraction of a millisecond.

Requests, one JSON object per line on stdin:
  {"id": "7", "argv": [...], "cwd": "...", "env": {...}, "stdout": "path", "stderr": "path",
   "rlimits": {"RLIMIT_AS": bytes, ...}, "uid": 61003 or null}
      -> {"id": "7", "pid": 1234}, then {"id": "7", "status": wait status, "cpu": user+sys seconds}
  {"id": "8", "sweep": 61003}    SIGKILL every process of that uid -> {"id": "8", "status": 0, "cpu": 0}
On end of input (the sandbox's process is gone) it kills the process groups it started and exits.
"""

import contextlib
import ctypes
import json
import os
import resource
import select
import signal

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


def enter_empty_network_namespace() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    flags = _CLONE_NEWNET if os.geteuid() == 0 else _CLONE_NEWUSER | _CLONE_NEWNET
    return libc.unshare(flags) == 0


def reply(message: dict) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


class Spare:
    """A child forked ahead of time that waits for its request: the fork, the costly part of starting
    a command, happens while the launcher is idle rather than on the next command's path."""

    def __init__(self) -> None:
        request_pipe, self._writer = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            # Hold none of the launcher's pipes while waiting: if the launcher dies, its client must see EOF.
            os.dup2(os.open("/dev/null", os.O_RDWR), 0)
            os.dup2(0, 1)
            os.closerange(3, request_pipe)
            os.closerange(request_pipe + 1, os.sysconf("SC_OPEN_MAX"))
            chunks = iter(lambda: os.read(request_pipe, 1 << 16), b"")
            exec_confined(json.loads(b"".join(chunks) or b"{}"))  # never returns
        os.close(request_pipe)

    def launch(self, line: bytes) -> int:
        """Hand the request over; OSError if the spare has died meanwhile."""
        try:
            os.write(self._writer, line)
        finally:
            os.close(self._writer)
        return self.pid


def start_command(line: bytes, spare: Spare | None) -> int:
    if spare is not None:
        try:
            return spare.launch(line)
        except OSError:
            pass  # it was killed: start this one the slow way
    return Spare().launch(line)


def exec_confined(request: dict) -> None:
    """In the forked child: become the confined program, or exit 127 saying why not."""
    argv = request.get("argv") or ["(none)"]
    try:
        os.setsid()
        for name, value in request["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
        os.dup2(os.open(request["stdout"], flags, 0o600), 1)
        os.dup2(os.open(request["stderr"], flags, 0o600), 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        for number in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)  # Python ignores some; exec keeps ignored ones
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.chdir(request["cwd"])
        if request["uid"] is not None:
            os.setgroups([])
            os.setgid(request["uid"])
            os.setuid(request["uid"])
        os.execve(argv[0], argv, request["env"])  # argv[0] comes as a full path
    except BaseException as exc:  # whatever failed, the child must end here, not run the launcher on
        os.write(2, f"sandbox: cannot start {argv[0]}: {exc}\n".encode())
    os._exit(127)


def start_sweep(uid: int) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)  # as that uid: all of its processes, never the caller
        except OSError:  # ProcessLookupError: nothing was left, as hoped
            pass
        os._exit(0)
    return pid


def reap(children: dict[int, str]) -> None:
    while children:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        request_id = children.pop(pid, None)
        if request_id is not None:
            reply({"id": request_id, "status": status, "cpu": usage.ru_utime + usage.ru_stime})


def serve() -> None:
    children: dict[int, str] = {}  # pid -> request id
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so SIGCHLD wakes select
    pending = b""
    spare = Spare()
    while True:
        readable, _, _ = select.select([0, wake_read], [], [])
        if wake_read in readable:
            os.read(wake_read, 4096)
            reap(children)
        if 0 in readable:
            data = os.read(0, 1 << 16)
            if not data:
                break
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                request = json.loads(line)
                if "sweep" in request:
                    children[start_sweep(request["sweep"])] = request["id"]
                else:
                    pid = start_command(line, spare)
                    spare = None
                    children[pid] = request["id"]
                    reply({"id": request["id"], "pid": pid})
            reap(children)
        if spare is None:
            spare = Spare()
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    os.kill(spare.pid, signal.SIGKILL)


if __name__ == "__main__":
    reply({"network_isolated": enter_empty_network_namespace()})
    serve()
