"""Java: Main.java is `source + "\\n" + test` (the prompt opens `class Solution`, the test is `public
class Main`), compiled by a warm javac server and run as `java -cp build Main` in the sandbox."""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from importlib import resources
from pathlib import Path

from ...checking.buildrun import BuildRunToolchain
from ...checking.cache import prepared_dir, run_trusted, tool_version
from ...checking.diagnostics import compiler_excerpt
from ...checking.sandbox import DATA_SEGMENT, Sandbox, cpu_slot, max_parallel
from ...checking.toolchain import ToolchainUnavailable
from ...helper_process import HelperDied
from ...task import Limits, Outcome, Program, Verdict
from . import SPEC
from .javac_server import JavacServer

# A test run is short: class data sharing and C1 only start fastest; the serial GC adds no threads.
_TEST_JVM_FLAGS = ("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData")


class JavaToolchain(BuildRunToolchain):
    spec = SPEC
    # The JVM reserves gigabytes of address space it never touches, so RLIMIT_AS would stop it at
    # start-up; RLIMIT_DATA counts what it commits. -Xmx bounds the heap, the headroom the rest.
    memory_rlimit = DATA_SEGMENT
    memory_headroom_mb = 512
    failure_start = re.compile(r"^Exception in thread", re.MULTILINE)

    def __init__(self) -> None:
        super().__init__()
        self.java = "java"
        self._server: JavacServer | None = None

    def prepare(self) -> None:
        java, javac = shutil.which("java"), shutil.which("javac")
        if not (java and javac):
            raise ToolchainUnavailable("java and javac (a JDK, 11 or newer) are needed for Java")
        self.java = java
        classes = _compiled_server(javac, tool_version(javac, "-version"))
        self._server = JavacServer(self.java, classes, max_parallel())
        self._server.start()

    async def build(self, program: Program, box: Sandbox, limits: Limits, *, optimized: bool) -> Verdict | None:
        main = box.write("Main.java", f"{program.source}\n{program.test}")
        try:
            compiled, diagnostics = await self._compile(main, box.build_dir, limits)
        except asyncio.TimeoutError:
            return Verdict(Outcome.TIMEOUT, f"compiling took longer than {limits.build_seconds:g} s")
        if not compiled:
            return Verdict(Outcome.COMPILE_ERROR, compiler_excerpt(box.scrub(diagnostics)))
        return None

    async def _compile(self, main: Path, out_dir: Path, limits: Limits) -> tuple[bool, str]:
        assert self._server is not None, "prepare() starts the server"
        async with cpu_slot():
            try:
                return await self._server.compile([main], out_dir, limits.build_seconds)
            except HelperDied:  # it crashed or was restarted under us: one fresh try
                return await self._server.compile([main], out_dir, limits.build_seconds)

    def test_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [self.java, f"-Xmx{limits.memory_mb}m", *_TEST_JVM_FLAGS, "-cp", str(box.build_dir), "Main"]

    async def build_harness(self, source: str, box: Sandbox, limits: Limits) -> Verdict | None:
        return await self.build(Program(language="java", source=source, test=""), box, limits, optimized=True)

    def harness_command(self, box: Sandbox, limits: Limits) -> list[str]:
        # The JVM's defaults (tiered JIT, its own GC choice), as a user's run would have them.
        return [self.java, "-Xbatch", f"-Xmx{limits.memory_mb}m", "-cp", str(box.build_dir), "Main"]

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()


def _compiled_server(javac: str, version: str) -> Path:
    """JavacServer.class, compiled once per JDK and per version of its source."""
    source = resources.files(__package__).joinpath("JavacServer.java").read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:12]

    def compile_server(directory: Path) -> None:
        (directory / "JavacServer.java").write_bytes(source)
        run_trusted([javac, "-d", str(directory), str(directory / "JavacServer.java")])

    return prepared_dir(f"java-{version}/javac-server-{digest}", compile_server)


TOOLCHAIN = JavaToolchain
