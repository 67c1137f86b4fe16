"""Performance inputs: each ENAMEL problem's tests at its four size levels, made with a fixed seed in the
sandbox (make_inputs.py) and cached, keyed by seed and problem, under PerfOrch's cache dir.

Two seeds: the VISIBLE inputs may be timed during refinement and described to a model; the HIDDEN ones are
only for scoring (eval). Upstream XORs the seed with the problem and test numbers, so the two seeds differ in
bits those numbers never reach.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..checking import get_toolchain
from ..checking.cache import cache_root
from ..checking.sandbox import open_sandbox
from ..errors import PerfOrchError
from ..task import Limits
from .enamel import TESTS_PER_LEVEL, EnamelProblem
from .tagged import StreamError, decode_all

VISIBLE_SEED = 1 << 20
HIDDEN_SEED = 2 << 20
_HERE = Path(__file__).parent
_LIMITS = Limits(wall_seconds=600.0, memory_mb=4096, output_bytes=256 * 1024 * 1024)
_MAX_STREAM = 256 * 1024 * 1024


class InputsError(PerfOrchError):
    """A problem whose inputs could not be made (its generator or reference failed): listed, never dropped."""


@dataclass(frozen=True)
class Case:
    level: int
    size: int
    args: tuple
    expected: object


@dataclass(frozen=True)
class PerformanceInputs:
    problem: EnamelProblem
    seed: int
    cases: tuple[Case, ...]

    def at_levels(self, levels: tuple[int, ...], per_level: int | None = None) -> tuple[Case, ...]:
        """The cases of those levels, in order; at most `per_level` of each."""
        chosen: list[Case] = []
        for level in levels:
            chosen.extend([c for c in self.cases if c.level == level][:per_level])
        return tuple(chosen)


_FORMAT = 2  # of the cached files (tagged.py); a new format makes them again


def cache_dir(seed: int) -> Path:
    return cache_root() / f"enamel-inputs-v{_FORMAT}" / f"seed-{seed}"


async def performance_inputs(problem: EnamelProblem, enamel_dir: Path, seed: int) -> PerformanceInputs:
    """The problem's inputs and expected answers for `seed`: from the cache, else made in the sandbox."""
    stem = cache_dir(seed) / f"{problem.number}-{problem.fingerprint()}"
    error = stem.with_suffix(".error")
    if error.is_file():
        raise InputsError(error.read_text(encoding="utf-8"))
    inputs, answers = stem.with_suffix(".inputs"), stem.with_suffix(".answers")
    if not (inputs.is_file() and answers.is_file()):
        try:
            made = await _make(problem, Path(enamel_dir), seed)
        except InputsError as exc:
            _store(error, str(exc).encode())
            raise
        _store(answers, made[1])
        _store(inputs, made[0])
    return _read(problem, seed, inputs.read_bytes(), answers.read_bytes())


def _read(problem: EnamelProblem, seed: int, inputs: bytes, answers: bytes) -> PerformanceInputs:
    try:
        count, *tests = decode_all(inputs)
        expected = decode_all(answers)
    except StreamError as exc:
        raise InputsError(f"{problem.task_id}: cached inputs unreadable ({exc}); delete {cache_dir(seed)}") from exc
    if count != len(tests) or len(tests) != len(expected):
        raise InputsError(f"{problem.task_id}: cached inputs incomplete; delete {cache_dir(seed)}")
    cases = tuple(
        Case(level, size, tuple(args), answer) for (level, size, args), answer in zip(tests, expected, strict=True)
    )
    return PerformanceInputs(problem, seed, cases)


def _store(path: Path, data: bytes) -> None:
    """Written whole or not at all: processes making the same inputs at once each rename a complete file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(data)
    partial.replace(path)


async def _make(problem: EnamelProblem, enamel_dir: Path, seed: int) -> tuple[bytes, bytes]:
    toolchain = get_toolchain("python")
    await toolchain.ensure_prepared()
    request = {
        "prompt": problem.prompt,
        "input_generator": problem.input_generator,
        "reference_solution": problem.reference_solution,
        "entry_point": problem.entry_point,
        "levels": list(problem.levels),
        "tests_per_level": list(TESTS_PER_LEVEL),
        "seed": seed,
        "problem": problem.number,
    }
    async with open_sandbox() as box:
        for name in ("make_inputs.py", "tagged.py"):
            shutil.copy(_HERE / name, box.build_dir / name)
        shutil.copy(enamel_dir / "datautils.py", box.build_dir / "datautils.py")
        box.write("request.json", json.dumps(request))
        argv = [
            toolchain.interpreter,
            "-I",
            "-B",
            str(box.build_dir / "make_inputs.py"),
            str(box.build_dir / "request.json"),
        ]
        run = await box.run([*argv, "inputs", "answers"], _LIMITS)
        if not run.succeeded or "OK" not in run.stdout:
            reason = "timed out" if run.timed_out else (run.stdout.strip() or run.stderr.strip()[-500:] or "no output")
            raise InputsError(f"{problem.task_id}: its inputs could not be made: {reason}")
        return _capped(box.run_dir / "inputs"), _capped(box.run_dir / "answers")


def _capped(path: Path) -> bytes:
    if path.stat().st_size > _MAX_STREAM:
        raise InputsError(f"{path.name}: over {_MAX_STREAM} bytes")
    return path.read_bytes()
