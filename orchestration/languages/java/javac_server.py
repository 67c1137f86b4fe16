"""A warm javac: the client side of JavacServer.java, a long-lived JVM compiling on request.

Starting javac costs most of a Java candidate's build time; a JVM that stays up and has JIT-compiled
javac compiles a HumanEval file many times faster. The server is trusted (it only compiles, with
annotation processing off); the candidate's own code still runs in a separate, sandboxed JVM.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from pathlib import Path

from ...helper_process import LineHelper, settle

# Flags for a server that lives long: full JIT (unlike the short test runs), a small serial heap.
_SERVER_JVM_FLAGS = ("-Xshare:auto", "-XX:+UseSerialGC", "-Xms64m", "-Xmx768m", "-XX:-UsePerfData")


class JavacServer:
    def __init__(self, java: str, classes_dir: Path, threads: int) -> None:
        argv = [java, *_SERVER_JVM_FLAGS, "-cp", str(classes_dir), "JavacServer", str(threads)]
        self._helper = LineHelper(argv, _parse_reply)
        self._ids = itertools.count()

    async def compile(self, sources: list[Path], out_dir: Path, timeout: float) -> tuple[bool, str]:
        """(compiled, javac's diagnostics). A compile that overruns `timeout` takes the server down
        (its worker is stuck) and raises asyncio.TimeoutError; the next request starts a fresh server."""
        request_id = str(next(self._ids))
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[tuple[bool, str]] = loop.create_future()
        line = "\t".join([request_id, str(out_dir), *map(str, sources)])
        process = self._helper.request(line, {request_id: settle(loop, reply)})
        try:
            return await asyncio.wait_for(reply, timeout)
        except asyncio.TimeoutError:
            self._helper.stop(process)
            raise
        finally:
            self._helper.forget([request_id])

    def start(self) -> None:
        self._helper.start()

    def close(self) -> None:
        self._helper.stop()


def _parse_reply(line: str) -> tuple[str, tuple[bool, str]]:
    request_id, status, payload = line.split("\t")
    return request_id, (status == "0", base64.b64decode(payload).decode("utf-8", errors="replace"))
