"""A warm javac: the client side of JavacServer.java, a long-lived JVM compiling on request.

Starting javac costs most of a Java candidate's build time; a JVM that stays up and has JIT-compiled
javac compiles a HumanEval file many times faster. The server is trusted (it only compiles, with
annotation processing off); the candidate's own code still runs in a separate, sandboxed JVM.

The server is not tied to an event loop: a reader thread hands replies to whichever loop asked, so one
server serves a whole process even when it runs several loops one after another.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import logging
import subprocess
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# Flags for a server that lives long: full JIT (unlike the short test runs), a small serial heap.
_SERVER_JVM_FLAGS = ("-Xshare:auto", "-XX:+UseSerialGC", "-Xms64m", "-Xmx768m", "-XX:-UsePerfData")


class JavacServerDied(RuntimeError):
    pass


class JavacServer:
    def __init__(self, java: str, classes_dir: Path, threads: int) -> None:
        self._argv = [java, *_SERVER_JVM_FLAGS, "-cp", str(classes_dir), "JavacServer", str(threads)]
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        # request id -> (the loop that waits, its future, the server process that got the request)
        self._pending: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[tuple[bool, str]], object]] = {}
        self._ids = itertools.count()

    async def compile(self, sources: list[Path], out_dir: Path, timeout: float) -> tuple[bool, str]:
        """(compiled, javac's diagnostics). A compile that overruns `timeout` takes the server down
        (its worker is stuck) and raises TimeoutError; the next request starts a fresh server."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[tuple[bool, str]] = loop.create_future()
        request_id = str(next(self._ids))
        fields = [request_id, str(out_dir), *map(str, sources)]
        with self._lock:
            process = self._running_process()
            self._pending[request_id] = (loop, reply, process)
            try:
                process.stdin.write("\t".join(fields) + "\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            except OSError as exc:
                self._pending.pop(request_id, None)
                raise JavacServerDied(str(exc)) from exc
        try:
            return await asyncio.wait_for(reply, timeout)
        except asyncio.TimeoutError:
            self._stop(process)
            raise
        finally:
            with self._lock:
                self._pending.pop(request_id, None)

    def start(self) -> None:
        with self._lock:
            self._running_process()

    def close(self) -> None:
        with self._lock:
            process = self._process
        if process is not None:
            self._stop(process)

    def _running_process(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                self._argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                start_new_session=True,  # a terminal's Ctrl-C is for us, not for the server
            )
            threading.Thread(target=self._read_replies, args=(self._process,), daemon=True).start()
        return self._process

    def _read_replies(self, process: subprocess.Popen[str]) -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            request_id, status, payload = line.rstrip("\n").split("\t")
            diagnostics = base64.b64decode(payload).decode("utf-8", errors="replace")
            self._deliver(request_id, (status == "0", diagnostics))
        process.wait()
        with self._lock:
            orphans = [key for key, (_, _, asked) in self._pending.items() if asked is process]
        for request_id in orphans:
            self._deliver(request_id, JavacServerDied(f"javac server exited with {process.returncode}"))

    def _deliver(self, request_id: str, result: tuple[bool, str] | Exception) -> None:
        with self._lock:
            waiting = self._pending.get(request_id)
        if waiting is None:
            return
        loop, future, _ = waiting
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, future, result)

    def _stop(self, process: subprocess.Popen[str]) -> None:
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _settle(future: asyncio.Future[tuple[bool, str]], result: tuple[bool, str] | Exception) -> None:
    if future.done():
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)
