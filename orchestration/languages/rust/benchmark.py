"""Rust: `source + "\\n" + test` built by `rustc --edition 2021 --test` against the crates HumanEval
uses (rand, regex, md5), which cargo builds once into the cache dir; the sandbox runs the test binary.

rand is 0.4 as upstream used it: Rust/32 and Rust/50 call its `gen_range(a, b)`, which rand 0.8
dropped. It still builds with current rustc (checked with 1.95).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ...checking.buildrun import BuildRunToolchain
from ...checking.cache import prepared_dir, run_trusted, tool_version
from ...checking.sandbox import Completed, Sandbox
from ...checking.toolchain import ToolchainUnavailable
from ...task import Limits, Program, Verdict
from . import FAILURE_START, SPEC

CRATES = {"rand": "=0.4.6", "regex": "=1.13.2", "md5": "=0.7.0"}
_TESTS_RUN = re.compile(r"^running (\d+) tests?$", re.MULTILINE)


class RustToolchain(BuildRunToolchain):
    spec = SPEC
    failure_start = FAILURE_START

    def __init__(self) -> None:
        super().__init__()
        self.rustc = "rustc"
        self.crate_flags: list[str] = []

    def prepare(self) -> None:
        rustc, cargo = shutil.which("rustc"), shutil.which("cargo")
        if not (rustc and cargo):
            raise ToolchainUnavailable("rustc and cargo are needed for Rust")
        self.rustc = rustc
        self.crate_flags = _prebuilt_crates(cargo, tool_version(rustc, "--version"))

    async def build(self, program: Program, box: Sandbox, limits: Limits, *, optimized: bool) -> Verdict | None:
        box.write("main.rs", f"{program.source}\n{program.test}")
        # Verdicts use a debug build, which compiles faster; timings the optimised one users ship.
        optimization = ["-C", "opt-level=3"] if optimized else []
        argv = [self.rustc, "--edition", "2021", "--test", "-A", "warnings", *optimization]
        return await self.compile(box, [*argv, *self.crate_flags, "main.rs", "-o", "main"], limits)

    def test_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [str(box.build_dir / "main"), "--test-threads=1"]

    async def build_harness(self, source: str, box: Sandbox, limits: Limits) -> Verdict | None:
        box.write("harness.rs", source)
        # cargo's release profile: opt-level 3, no debug assertions, no overflow checks.
        argv = [self.rustc, "--edition", "2021", "-C", "opt-level=3", "-A", "warnings", *self.crate_flags]
        return await self.compile(box, [*argv, "harness.rs", "-o", "harness"], limits)

    def harness_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [str(box.build_dir / "harness")]

    def missing_tests(self, run: Completed) -> str | None:
        if any(int(count) > 0 for count in _TESTS_RUN.findall(run.stdout)):
            return None
        return "no test ran (running 0 tests): the test needs #[test] functions inside #[cfg(test)]"


def _prebuilt_crates(cargo: str, rustc_version: str) -> list[str]:
    """rustc flags that link the crates cargo built once for this rustc (rlibs are per compiler)."""
    directory = prepared_dir(f"rust-{rustc_version}/crates", lambda d: _build_crates(cargo, rustc_version, d))
    externs = json.loads((directory / "externs.json").read_text())
    flags = ["-L", f"dependency={directory / 'target' / 'release' / 'deps'}"]
    for name, rlib in externs.items():
        flags += ["--extern", f"{name}={rlib}"]
    return flags


def _build_crates(cargo: str, rustc_version: str, directory: Path) -> None:
    # rust-version + resolver 3: cargo picks the dependencies' newest releases that still build with
    # this rustc, so a later release of regex's own dependencies cannot break a fresh machine.
    rust_version = re.search(r"\d+\.\d+\.\d+", rustc_version)
    package = ['name = "perforch-crates"', 'version = "0.0.0"', 'edition = "2021"', 'resolver = "3"']
    package += [f'rust-version = "{rust_version.group()}"'] if rust_version else []
    dependencies = [f'{name} = "{version}"' for name, version in CRATES.items()]
    manifest = "\n".join(["[package]", *package, "", "[dependencies]", *dependencies, ""])
    (directory / "Cargo.toml").write_text(manifest)
    (directory / "src").mkdir()
    (directory / "src" / "lib.rs").write_text("")
    messages = run_trusted(
        [cargo, "build", "--release", "--message-format=json"],
        cwd=directory,
        env={"CARGO_TARGET_DIR": str(directory / "target")},
    )
    externs = {}
    for line in messages.splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        name = message.get("target", {}).get("name")
        if message.get("reason") == "compiler-artifact" and name in CRATES:
            externs[name] = next(f for f in message["filenames"] if f.endswith(".rlib"))
    if set(externs) != set(CRATES):
        raise ToolchainUnavailable(f"cargo built {sorted(externs)}, expected {sorted(CRATES)}")
    (directory / "externs.json").write_text(json.dumps(externs, indent=1))


TOOLCHAIN = RustToolchain
