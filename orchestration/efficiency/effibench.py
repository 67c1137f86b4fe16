"""EffiBench-X (Qing et al., 2025): problems from per-problem JSON files, run and judged in the sandbox.

The layout is what upstream's hf_dataset.py unpacks from the hub: one `{source}_{id}_{title_slug}.json` per
problem. `io` problems are whole programs (stdin to stdout); `functional` ones complete a function inside
the problem's per-language runner at the line `==Code Submission==` (assembled by languages/<lang>/effibench.py,
as upstream does, plus Rust, which upstream lacks). A program is built once and run on every test in one
sandboxed shell loop (one process per test, as upstream measures, without a sandbox start-up per test);
each output is then judged by the problem's `evaluator`, code from the data, in a second sandboxed process
that may not open files (effibench_evaluator.py). Efficiency per problem is min(1, canonical / candidate)
of the CPU seconds of that loop, the canonical solution timed on this machine in the same run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..checking import get_toolchain
from ..checking.buildrun import BuildRunToolchain
from ..checking.sandbox import Sandbox, open_sandbox
from ..errors import PerfOrchError
from ..languages import SPECS, language_spec
from ..task import Limits, Outcome

MARKER = "==Code Submission=="
# Our language names and the record's keys for them (Rust has none in the data).
DATA_KEYS = {spec.name: spec.effibench_key or spec.name for spec in SPECS.values()}
VISIBLE_TESTS = 3
_REQUIRED = ("id", "title_slug", "source", "type", "description", "evaluator", "generated_tests")
_HERE = Path(__file__).parent
_TEST_SECONDS = 10  # per test, upstream's default
EVALUATOR_LIMITS = Limits(wall_seconds=30.0, memory_mb=1024, output_bytes=1024 * 1024)
_LOOP = """n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
  timeout --foreground -s KILL {seconds} "$@" < "{inputs}/$i" > "out.$i" 2> "err.$i"
  rc=$?
  echo "$rc" > "rc.$i"
  [ "$rc" -eq 0 ] || exit 0
  i=$((i + 1))
done
"""


class EffiBenchError(PerfOrchError):
    pass


@dataclass(frozen=True)
class EffiTest:
    input: str
    output: str


@dataclass(frozen=True)
class EffiProblem:
    key: str  # the file's stem, {source}_{id}_{title_slug}
    kind: str  # "io" | "functional"
    title: str
    description: str
    evaluator: str
    tests: tuple[EffiTest, ...]
    starter_code: dict[str, str] = field(default_factory=dict)  # by our language name
    solutions: dict[str, str] = field(default_factory=dict)  # canonical, by our language name
    runners: dict[str, str] = field(default_factory=dict)  # functional only, by our language name

    @property
    def task_id(self) -> str:
        return f"EffiBench-X/{self.key}"

    def visible_tests(self) -> tuple[EffiTest, ...]:
        """What a model is shown; scoring uses every test."""
        return self.tests[:VISIBLE_TESTS]

    def prompt(self, language: str) -> str:
        """The description, the starter code (functional) and the visible tests, for a model."""
        parts = [self.description.strip()]
        starter = self.starter_code.get(language_spec(language).name)
        if starter:
            parts.append(f"Complete this code:\n{starter.strip()}")
        elif self.kind == "io":
            parts.append("Write a complete program that reads standard input and writes standard output.")
        for n, test in enumerate(self.visible_tests(), 1):
            parts.append(f"Example {n}\nInput:\n{test.input}\nOutput:\n{test.output}")
        return "\n\n".join(parts)


def is_effibench(directory: Path) -> bool:
    """Whether `directory` holds EffiBench-X problem files (judged by the first JSON file's fields)."""
    first = next(iter(sorted(Path(directory).glob("*_*.json"))), None) if Path(directory).is_dir() else None
    if first is None:
        return False
    try:
        record = json.loads(first.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and all(name in record for name in _REQUIRED)


def load_effibench(directory: Path, limit: int | None = None) -> list[EffiProblem]:
    """The problems of an EffiBench-X directory in file-name order, the first `limit` of them."""
    directory = Path(directory)
    if not is_effibench(directory):
        raise EffiBenchError(
            f"{directory}: no EffiBench-X problem files ({{source}}_{{id}}_{{title_slug}}.json with the fields "
            f"{', '.join(_REQUIRED)}); unpack the hub's data with upstream's hf_dataset.py first"
        )
    return [load_problem(path) for path in sorted(directory.glob("*_*.json"))[:limit]]


def load_problem(path: Path) -> EffiProblem:
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        missing = [name for name in _REQUIRED if name not in record]
        if missing:
            raise EffiBenchError(f"{path}: not an EffiBench-X record, missing {', '.join(missing)}")
        tests = record["generated_tests"]
        tests = json.loads(tests) if isinstance(tests, str) else tests  # a JSON string in the hub's data
        kind = record["type"]
        if kind not in ("io", "functional"):
            raise EffiBenchError(f"{path}: type is {kind!r}, expected 'io' or 'functional'")
        return EffiProblem(
            key=Path(path).stem,
            kind=kind,
            title=record.get("title") or record["title_slug"],
            description=record.get("description_md") or record["description"],
            evaluator=record["evaluator"],
            tests=tuple(EffiTest(str(t["input"]), str(t["output"])) for t in tests),
            starter_code=_by_language(record.get("starter_code")),
            solutions={name: s["code"] for name, s in _by_language(record.get("solutions")).items()},
            runners=_by_language(record.get("test_runners")),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EffiBenchError(f"{path}: unreadable EffiBench-X record: {exc}") from exc


def _by_language(value: dict | None) -> dict:
    return {ours: value[key] for ours, key in DATA_KEYS.items() if value and value.get(key)}


def program(problem: EffiProblem, language: str, solution: str) -> str:
    """The source to build: the answer itself (io), or the answer inside the problem's runner (functional)."""
    spec = language_spec(language)
    if problem.kind == "functional" and spec.name not in problem.runners and spec.effibench_runners:
        raise EffiBenchError(f"{problem.key}: no {spec.name} runner in the data (test_runners has none)")
    try:
        assemble = spec.effibench_program()
    except ModuleNotFoundError as exc:
        if exc.name != f"{spec.package}.effibench":
            raise
        raise EffiBenchError(f"{spec.display_name} has no EffiBench-X programs ({spec.package}.effibench)") from exc
    return assemble(problem.kind, solution, problem.runners.get(spec.name), MARKER)


@dataclass(frozen=True)
class EffiRun:
    outcome: Outcome
    tests: int  # how many were run
    passed_tests: int
    cpu_seconds: float = 0.0  # the whole loop's, when every test passed
    detail: str = ""
    cpu_samples: tuple[float, ...] = ()  # each timed loop's CPU seconds (the judged run's first), when all passed

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


async def run_solution(
    problem: EffiProblem, language: str, solution: str, tests: Sequence[EffiTest] | None = None,
    limits: Limits | None = None, evaluator_limits: Limits = EVALUATOR_LIMITS, repeats: int = 1,
) -> EffiRun:  # fmt: skip
    """Build `solution` and run it on `tests` (all by default); PASSED only if the evaluator accepts all.
    `limits` bound the build and each loop of runs; `evaluator_limits` the evaluator's process. With `repeats`
    > 1 a passing program's loop runs that many times in all, built once, each loop's CPU time a sample."""
    tests = list(problem.tests if tests is None else tests)
    limits = limits or Limits(wall_seconds=60.0 + 2.0 * len(tests), build_seconds=120.0)
    async with open_sandbox() as box:
        try:
            source = program(problem, language, solution)
        except LookupError as exc:
            return EffiRun(Outcome.INVALID, 0, 0, detail=str(exc))
        toolchain = get_toolchain(language_spec(language).name)
        built, command = await _build(toolchain, source, box, limits)
        if built is not None:
            return EffiRun(built.outcome, 0, 0, detail=built.diagnostics)
        # Runtimes that reserve address space they never use (JVM, Go) are bounded by data size instead.
        memory = {"memory_rlimit": toolchain.memory_rlimit, "memory_headroom_mb": toolchain.memory_headroom_mb}
        run = await _run_and_judge(problem, box, command, tests, limits, memory, evaluator_limits)
        if not run.passed:
            return run
        samples = [run.cpu_seconds]
        for _ in range(repeats - 1):  # the same program on the same inputs: timed again, judged once
            again = await box.run(
                ["/bin/sh", str(box.build_dir / "loop.sh"), str(len(tests)), *command], limits, **memory
            )
            if again.timed_out or any(_read(box.run_dir / f"rc.{n}", 64).strip() != "0" for n in range(len(tests))):
                return replace(run, outcome=Outcome.TIMEOUT if again.timed_out else Outcome.TEST_FAILED,
                               detail="a timed rerun of the passing program failed", cpu_samples=())  # fmt: skip
            samples.append(again.cpu_seconds)
        return replace(run, cpu_samples=tuple(samples))


async def _build(toolchain: BuildRunToolchain, source: str, box: Sandbox, limits: Limits):
    await toolchain.ensure_prepared()
    return await toolchain.build_harness(source, box, limits), toolchain.harness_command(box, limits)


async def _run_and_judge(
    problem: EffiProblem,
    box: Sandbox,
    command: list[str],
    tests: list[EffiTest],
    limits: Limits,
    memory: dict,
    evaluator_limits: Limits,
) -> EffiRun:
    inputs = box.build_dir / "inputs"
    inputs.mkdir()
    for n, test in enumerate(tests):
        (inputs / str(n)).write_text(test.input if test.input.endswith("\n") else test.input + "\n")
    box.write("loop.sh", _LOOP.format(seconds=_TEST_SECONDS, inputs=inputs))
    run = await box.run(["/bin/sh", str(box.build_dir / "loop.sh"), str(len(tests)), *command], limits, **memory)
    outputs = []
    for n in range(len(tests)):
        code = _read(box.run_dir / f"rc.{n}", 64).strip()
        if code != "0":
            why = "was stopped" if run.timed_out or not code else _exit_reason(code)
            error = box.scrub(_read(box.run_dir / f"err.{n}", 4000)).strip()
            detail = f"test {n + 1} of {len(tests)}: the program {why}" + (f"\n{error[-1500:]}" if error else "")
            outcome = Outcome.TIMEOUT if run.timed_out or code == "137" else Outcome.TEST_FAILED
            return EffiRun(outcome, n + 1, n, detail=detail)
        outputs.append(_read(box.run_dir / f"out.{n}", limits.output_bytes))
    pairs = [(test.output, output) for test, output in zip(tests, outputs, strict=True)]
    verdicts, why = await _evaluate(problem.evaluator, box, pairs, evaluator_limits)
    if verdicts is None:
        return EffiRun(Outcome.TEST_FAILED, len(tests), 0, detail=f"the evaluator {why}")
    if not all(verdicts):
        first = verdicts.index(False)
        test = tests[first]
        detail = f"test {first + 1} of {len(tests)}: wrong output\ninput:\n{test.input[:500]}\nexpected:\n"
        detail += f"{test.output[:500]}\ngot:\n{outputs[first][:500]}"
        return EffiRun(Outcome.TEST_FAILED, len(tests), sum(verdicts), detail=detail)
    return EffiRun(Outcome.PASSED, len(tests), len(tests), cpu_seconds=run.cpu_seconds)


async def _evaluate(
    evaluator: str, box: Sandbox, pairs: list[tuple[str, str]], limits: Limits
) -> tuple[list[bool] | None, str]:
    """The evaluator's verdict on each (expected, output) pair, or None and why it gave none."""
    box.write("evaluator-job.json", json.dumps({"evaluator": evaluator, "pairs": [[e, o] for e, o in pairs]}))
    interpreter = get_toolchain("python")
    await interpreter.ensure_prepared()
    # A copy in the box: the sandbox user may not read PerfOrch's own install (a private home, a 0700 checkout).
    script = box.write("effibench_evaluator.py", (_HERE / "effibench_evaluator.py").read_text(encoding="utf-8"))
    argv = [interpreter.interpreter, "-I", "-B", str(script), str(box.build_dir / "evaluator-job.json")]
    run = await box.run(argv, limits)
    if run.timed_out:
        return None, f"ran longer than {limits.wall_seconds:g} s and was stopped"
    try:
        verdicts = json.loads(run.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, f"failed: {(run.stderr.strip() or run.stdout.strip())[-1000:] or 'no verdict'}"
    if not isinstance(verdicts, list) or len(verdicts) != len(pairs):
        return None, "gave no verdict per test"
    return [v is True for v in verdicts], ""


def _exit_reason(code: str) -> str:
    if code == "137":
        return f"ran longer than {_TEST_SECONDS} s (killed)"
    if code.isdigit() and int(code) > 128:
        return f"was ended by signal {int(code) - 128}"
    return f"exited with code {code}"


def _read(path: Path, limit: int) -> str:
    """A file the untrusted program wrote, never following a link it may have put there."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    with os.fdopen(descriptor, "rb") as file:
        return file.read(limit).decode("utf-8", errors="replace")


def efficiency(canonical: EffiRun, candidate: EffiRun) -> float | None:
    """min(1, canonical / candidate) CPU seconds; 0 when the candidate failed (as upstream counts it); None
    when the canonical solution did not pass here (nothing to compare with)."""
    if not canonical.passed:
        return None
    if not candidate.passed:
        return 0.0
    return min(1.0, canonical.cpu_seconds / max(candidate.cpu_seconds, 1e-9))
