"""A long-lived helper process spoken to in lines, usable from any thread and any event loop.

The sandbox's launcher and the warm javac server are such helpers. Neither is tied to an event loop:
a reader thread hands each reply to the handler registered for its key, so one helper serves a whole
process even when that process runs several loops one after another (tests, CLI commands). A helper
that dies fails its pending requests with HelperDied; the next request starts a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[Any], None]  # gets the reply's payload, or a HelperDied


class HelperDied(RuntimeError):
    pass


class LineHelper:
    def __init__(
        self,
        argv: Sequence[str],
        parse_reply: Callable[[str], tuple[str, Any]],
        on_start: Callable[[subprocess.Popen[str]], None] | None = None,
    ) -> None:
        """`parse_reply` turns a reply line into (key, payload); `on_start` may read a greeting."""
        self._argv = list(argv)
        self._parse_reply = parse_reply
        self._on_start = on_start
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._pending: dict[str, tuple[Handler, subprocess.Popen[str]]] = {}

    def request(self, line: str, handlers: dict[str, Handler]) -> subprocess.Popen[str]:
        """Send one request line; each reply key's handler runs in the reader thread. The process that
        got the request is returned, so a caller whose request hangs can stop exactly that one."""
        with self._lock:
            process = self._running_process()
            for key, handler in handlers.items():
                self._pending[key] = (handler, process)
            try:
                process.stdin.write(line + "\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            except OSError as exc:
                for key in handlers:
                    self._pending.pop(key, None)
                raise HelperDied(f"{self._argv[0]}: {exc}") from exc
        return process

    def forget(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._pending.pop(key, None)

    def start(self) -> subprocess.Popen[str]:
        with self._lock:
            return self._running_process()

    def stop(self, process: subprocess.Popen[str] | None = None) -> None:
        """Kill the helper (or the given incarnation of it); its pending requests fail."""
        with self._lock:
            process = process or self._process
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.wait(timeout=5)

    def _running_process(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                self._argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                start_new_session=True,  # a terminal's Ctrl-C is for us, not for the helper
            )
            if self._on_start is not None:
                self._on_start(self._process)
            threading.Thread(target=self._read_replies, args=(self._process,), daemon=True).start()
        return self._process

    def _read_replies(self, process: subprocess.Popen[str]) -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            key, payload = self._parse_reply(line.rstrip("\n"))
            with self._lock:
                handler, _ = self._pending.pop(key, (None, None))
            if handler is not None:
                handler(payload)
        process.wait()
        with self._lock:
            orphans = [key for key, (_, asked) in self._pending.items() if asked is process]
            handlers = [self._pending.pop(key)[0] for key in orphans]
        for handler in handlers:
            handler(HelperDied(f"{self._argv[0]} exited with {process.returncode}"))


def settle(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> Handler:
    """A handler that completes `future` in its own loop; an exception as payload fails it."""

    def in_loop(payload: Any) -> None:
        if future.done():
            return
        if isinstance(payload, BaseException):
            future.set_exception(payload)
        else:
            future.set_result(payload)

    def handler(payload: Any) -> None:
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(in_loop, payload)

    return handler
