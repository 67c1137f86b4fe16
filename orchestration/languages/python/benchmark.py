"""Python: the program is `source + "\\n" + test`; the test calls check(entry_point) at import time."""

from __future__ import annotations

import shutil
import sys
import traceback

from ...checking.buildrun import BuildRunToolchain
from ...checking.diagnostics import head
from ...checking.sandbox import Sandbox, untrusted_can_start
from ...checking.toolchain import ToolchainUnavailable
from ...task import Limits, Outcome, Program, Verdict
from . import SPEC

# Where to look for an interpreter the sandbox uid may run when ours lives below a private home.
_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


class PythonToolchain(BuildRunToolchain):
    spec = SPEC
    # No failure_start: a traceback ends with its cause, so the tail is the useful part.

    def __init__(self) -> None:
        super().__init__()
        self.interpreter = sys.executable

    def prepare(self) -> None:
        self.interpreter = _interpreter_for_untrusted_runs()

    async def build(self, program: Program, box: Sandbox, limits: Limits, *, optimized: bool) -> Verdict | None:
        text = f"{program.source}\n{program.test}"
        box.write("main.py", text)
        # Compiling is cheap and runs nothing, so it is done here rather than in another process.
        try:
            compile(text, "main.py", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            return Verdict(Outcome.COMPILE_ERROR, head("".join(traceback.format_exception_only(exc))))
        return None

    def test_command(self, box: Sandbox, limits: Limits) -> list[str]:
        # -I: no user site, no PYTHON* variables, no script dir on sys.path; -B: write no bytecode.
        return [self.interpreter, "-I", "-B", str(box.build_dir / "main.py")]

    # A whole program (EffiBench-X) is not built: the interpreter runs the file, and a compile error shows as
    # a crash, as upstream runs it. Python's timing harness is efficiency/py_harness.py, not these.
    async def build_harness(self, source: str, box: Sandbox, limits: Limits) -> Verdict | None:
        box.write("main.py", source)
        return None

    def harness_command(self, box: Sandbox, limits: Limits) -> list[str]:
        return [self.interpreter, "-B", str(box.build_dir / "main.py")]


def _interpreter_for_untrusted_runs() -> str:
    """Ours when the sandbox uid can start it; else the system python3 (same language, other install)."""
    candidates = [sys.executable, shutil.which("python3", path=_SYSTEM_PATH)]
    tried = list(dict.fromkeys(c for c in candidates if c))
    for candidate in tried:
        if untrusted_can_start([candidate, "-I", "-c", "pass"]):
            return candidate
    raise ToolchainUnavailable(f"no python3 that the sandbox user can start (tried {', '.join(tried)})")


TOOLCHAIN = PythonToolchain
