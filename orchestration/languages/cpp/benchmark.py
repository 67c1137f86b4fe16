"""C++: `source + "\\n" + test` after the helper includes that upstream HumanEval-X prepends, built by
g++ and linked with -lcrypto (CPP/162 uses OpenSSL's MD5). The includes come from a precompiled header
in the cache dir, which halves a HumanEval build, and keeps the file's line numbers as the model wrote them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ...checking.buildrun import BuildRunToolchain
from ...checking.cache import prepared_dir, run_trusted, tool_version
from ...checking.sandbox import Sandbox
from ...checking.toolchain import ToolchainUnavailable
from ...task import Limits, Program, Verdict
from . import SPEC

PRELUDE_HEADERS = (
    "stdlib.h",
    "algorithm",
    "math.h",
    "stdio.h",
    "vector",
    "string",
    "climits",
    "cstring",
    "iostream",
    "cassert",
)
# g++ uses a precompiled header only with the flags it was made with, so there is one set for all builds.
_FLAGS = ("-std=c++17", "-O2")
_QUIET = ("-w", "-fmax-errors=5", "-fdiagnostics-color=never")


class CppToolchain(BuildRunToolchain):
    spec = SPEC
    failure_start = re.compile(r"Assertion .* failed|terminate called")

    def __init__(self) -> None:
        super().__init__()
        self.compiler = "g++"
        self.prelude = Path("prelude.h")

    def prepare(self) -> None:
        compiler = shutil.which("g++")
        if compiler is None:
            raise ToolchainUnavailable("g++ is needed for C++ (Debian: apt-get install g++ libboost-dev libssl-dev)")
        self.compiler = compiler
        self.prelude = _precompiled_prelude(compiler) / "prelude.h"

    async def build(self, program: Program, box: Sandbox, limits: Limits, *, optimized: bool) -> Verdict | None:
        box.write("main.cpp", f"{program.source}\n{program.test}")
        argv = [self.compiler, *_FLAGS, *_QUIET, "-include", str(self.prelude), "main.cpp", "-o", "main", "-lcrypto"]
        return await self.compile(box, argv, limits)

    def test_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [str(box.build_dir / "main")]

    async def build_harness(self, source: str, box: Sandbox, limits: Limits) -> Verdict | None:
        box.write("harness.cpp", source)  # -O2 as every build here (_FLAGS)
        argv = [self.compiler, *_FLAGS, *_QUIET, "-include", str(self.prelude), "harness.cpp", "-o", "harness"]
        return await self.compile(box, [*argv, "-lcrypto"], limits)

    def harness_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [str(box.build_dir / "harness")]


def _precompiled_prelude(compiler: str) -> Path:
    def precompile(directory: Path) -> None:
        header = directory / "prelude.h"
        header.write_text("".join(f"#include <{name}>\n" for name in PRELUDE_HEADERS))
        run_trusted([compiler, *_FLAGS, "-x", "c++-header", str(header), "-o", f"{header}.gch"])

    return prepared_dir(f"cpp-{tool_version(compiler, '--version')}/prelude", precompile)


TOOLCHAIN = CppToolchain
