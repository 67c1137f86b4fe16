"""Go: `test_setup` + the source, with their imports merged into one block, + the test, saved as
main_test.go in a module that requires testify. goimports fixes wrong, missing and unused imports (the
prompts' own blocks are wrong in 11 of 164 problems, and model answers are no better), `go test -c`
builds the test binary offline from a module cache prepared once, and the sandbox runs that binary."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from ...checking.buildrun import BuildRunToolchain
from ...checking.cache import cache_root, prepared_dir, run_trusted
from ...checking.sandbox import DATA_SEGMENT, Completed, Sandbox
from ...checking.toolchain import ToolchainUnavailable
from ...task import Limits, Program, Verdict
from . import FAILURE_START, SPEC

TESTIFY_VERSION = "v1.12.1"
GOIMPORTS_VERSION = "v0.52.0"  # golang.org/x/tools; builds with Go 1.26

_PACKAGE_CLAUSE = re.compile(r"^[ \t]*package[ \t]+\w+[ \t]*;?[ \t]*$", re.MULTILINE)
_IMPORT_BLOCK = re.compile(r"^import[ \t]*\((.*?)\)[ \t]*;?[ \t]*$", re.MULTILINE | re.DOTALL)
_IMPORT_LINE = re.compile(r'^import[ \t]+((?:[\w.]+[ \t]+)?"[^"\n]+")[ \t]*;?[ \t]*$', re.MULTILINE)
_WARM_UP_TEST = """package main

import (
    "testing"

    "github.com/stretchr/testify/assert"
)

func TestWarmUp(t *testing.T) {
    assert.Equal(t, 1, 1)
}
"""


def test_file(program: Program) -> str:
    """The one file `go test` sees: package main, every import once, the source's code, the test."""
    setup_imports, _ = split_imports(program.test_setup)
    source_imports, code = split_imports(program.source)
    imports = "".join(f"    {spec}\n" for spec in dict.fromkeys(setup_imports + source_imports))
    return f"package main\n\nimport (\n{imports})\n{code.strip(chr(10))}\n\n{program.test}"


def split_imports(code: str) -> tuple[list[str], str]:
    """(import specs, the code without its package clause and import declarations)."""
    specs: list[str] = []

    def take_block(match: re.Match[str]) -> str:
        for line in match.group(1).splitlines():
            spec = line.split("//")[0].strip()
            if spec:
                specs.append(spec)
        return ""

    def take_line(match: re.Match[str]) -> str:
        specs.append(match.group(1))
        return ""

    code = _PACKAGE_CLAUSE.sub("", code, count=1)
    code = _IMPORT_BLOCK.sub(take_block, code)
    return specs, _IMPORT_LINE.sub(take_line, code)


class GoToolchain(BuildRunToolchain):
    spec = SPEC
    # Go reserves address space far beyond what it uses (as the JVM does); RLIMIT_DATA counts the rest.
    memory_rlimit = DATA_SEGMENT
    memory_headroom_mb = 64
    # Near its data limit the runtime sometimes crashes in the GC instead of saying "out of memory";
    # with cgo off (as here, unlike a user's module), a bare SIGSEGV can only come from the runtime itself.
    out_of_memory_messages = (*SPEC.out_of_memory, "SIGSEGV: segmentation violation")
    failure_start = FAILURE_START

    def __init__(self) -> None:
        super().__init__()
        self.go = "go"
        self.goimports = "goimports"
        self.module_files: dict[str, bytes] = {}
        self.env: dict[str, str] = {}

    def prepare(self) -> None:
        go = shutil.which("go")
        if go is None:
            raise ToolchainUnavailable("go is needed for Go (1.21 or newer)")
        version = run_trusted([go, "env", "GOVERSION"]).strip()
        home = cache_root() / f"go-{version}"
        self.go = go
        self.env = _offline_env(home)
        template = prepared_dir(f"go-{version}/module", lambda d: _prepare_module(go, d, self.env))
        self.module_files = {name: (template / name).read_bytes() for name in ("go.mod", "go.sum")}
        self.goimports = _find_goimports(go, version, self.env)

    async def build(self, program: Program, box: Sandbox, limits: Limits, *, optimized: bool) -> Verdict | None:
        for name, content in self.module_files.items():
            (box.build_dir / name).write_bytes(content)
        box.write("main_test.go", test_file(program))
        fixed = await self.compile(box, [self.goimports, "-w", "main_test.go"], limits, env=self.env)
        if fixed is not None:
            return fixed
        # -vet=off: vet is a linter, not part of the verdict; -w: no DWARF, a quicker link.
        argv = [self.go, "test", "-c", "-vet=off", "-ldflags=-w", "-o", "main.test", "."]
        return await self.compile(box, argv, limits, env=self.env)

    def test_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [str(box.build_dir / "main.test")]

    async def build_harness(self, source: str, box: Sandbox, limits: Limits) -> Verdict | None:
        for name, content in self.module_files.items():
            (box.build_dir / name).write_bytes(content)
        box.write("main.go", source)
        fixed = await self.compile(box, [self.goimports, "-w", "main.go"], limits, env=self.env)
        if fixed is not None:
            return fixed
        return await self.compile(box, [self.go, "build", "-o", "harness", "."], limits, env=self.env)

    def harness_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [str(box.build_dir / "harness")]

    def test_env(self, box: Sandbox) -> Mapping[str, str]:
        return {"GOTRACEBACK": "single"}

    def missing_tests(self, run: Completed) -> str | None:
        if "no tests to run" in run.output:
            return "no test ran: the test file defines no func TestXxx(t *testing.T)"
        return None


def _offline_env(home: Path) -> dict[str, str]:
    """Builds resolve modules only from the prepared cache; everything Go writes stays below `home`."""
    return {
        "GOCACHE": str(home / "build-cache"),
        "GOMODCACHE": str(home / "module-cache"),
        "GOPATH": str(home / "gopath"),
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod -buildvcs=false",
        "GOSUMDB": "off",
        "GOTOOLCHAIN": "local",
        "GOTELEMETRY": "off",
        "GOWORK": "off",
        "GO111MODULE": "on",
        "CGO_ENABLED": "0",
    }


def _prepare_module(go: str, directory: Path, env: dict[str, str]) -> None:
    """go.mod and go.sum requiring testify, its modules downloaded and the build cache warmed."""
    online = {**env, "GOPROXY": "https://proxy.golang.org,direct", "GOSUMDB": "sum.golang.org"}
    run_trusted([go, "mod", "init", "candidate"], cwd=directory, env=online)
    (directory / "main_test.go").write_text(_WARM_UP_TEST)
    run_trusted([go, "get", f"github.com/stretchr/testify@{TESTIFY_VERSION}"], cwd=directory, env=online)
    run_trusted([go, "mod", "tidy"], cwd=directory, env=online)
    run_trusted([go, "test", "-c", "-vet=off", "-ldflags=-w", "-o", "warm-up.test", "."], cwd=directory, env=env)
    (directory / "warm-up.test").unlink()
    (directory / "main_test.go").unlink()


def _find_goimports(go: str, version: str, env: dict[str, str]) -> str:
    """goimports from PATH or GOPATH/bin (.ci/toolchain-deps.sh installs it), else installed once here."""
    gopath = run_trusted([go, "env", "GOPATH"], env={"GOPATH": ""}).strip().split(":")[0]
    for candidate in (shutil.which("goimports"), f"{gopath}/bin/goimports" if gopath else None):
        if candidate and Path(candidate).is_file():
            return candidate

    def install(directory: Path) -> None:
        online = {**env, "GOPROXY": "https://proxy.golang.org,direct", "GOSUMDB": "sum.golang.org"}
        online |= {"GOBIN": str(directory), "GOFLAGS": "-buildvcs=false"}
        run_trusted([go, "install", f"golang.org/x/tools/cmd/goimports@{GOIMPORTS_VERSION}"], env=online)

    return str(prepared_dir(f"go-{version}/goimports-{GOIMPORTS_VERSION}", install) / "goimports")


TOOLCHAIN = GoToolchain
