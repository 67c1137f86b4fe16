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


def start_command(request: dict) -> int:
    pid = os.fork()
    if pid == 0:
        exec_confined(request)  # never returns
    return pid


def exec_confined(request: dict) -> None:
    """In the forked child: become the confined program, or exit 127 saying why not."""
    argv = request["argv"]
    try:
        os.setsid()
        for name, value in request["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
        os.dup2(os.open(request["stdout"], flags, 0o644), 1)
        os.dup2(os.open(request["stderr"], flags, 0o644), 2)
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
                    pid = start_command(request)
                    children[pid] = request["id"]
                    reply({"id": request["id"], "pid": pid})
            reap(children)
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    reply({"network_isolated": enter_empty_network_namespace()})
    serve()
