"""Benchmarks in the HumanEval-X schema: one `<language>.jsonl.gz` per language (see shared/benchmarks)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import PerfOrchError
from .languages import LANGUAGES, language_spec
from .stubs import FunctionNotFound, find_function
from .task import Task
from .visible_examples import generated_visible_test

# Canonical solutions that fail by chance (map order, random inputs); scored but listed apart.
KNOWN_FLAKY = frozenset({"Go/95", "Rust/32"})
# Problems whose canonical solution disagrees with the Python example its visible test would be made from
# (found by benchmarks/visible_examples.py): the build-only substitute stands in, with this reason.
EXAMPLES_DISAGREE = frozenset({"Rust/33", "Rust/87", "Rust/103", "CPP/103", "Go/103", "Java/103"})


class BenchmarkError(PerfOrchError):
    pass


@dataclass(frozen=True)
class Problem:
    task_id: str
    language: str
    entry_point: str
    stub_source: str
    reference_source: str  # prompt + canonical solution
    buggy_source: str  # prompt + buggy solution ("" when the dataset has none)
    hidden_test: str
    visible_test: str
    visible_is_substitute: bool
    test_setup: str = ""
    substitute_reason: str = ""  # why the build-only substitute stands in (no visible test could be made)

    def task(self) -> Task:
        return Task(
            language=self.language,
            entry_point=self.entry_point,
            source=self.stub_source,
            visible_test=self.visible_test,
            test_setup=self.test_setup,
            task_id=self.task_id,
        )


def load_benchmark(directory: Path, languages: list[str] | None = None, limit: int | None = None) -> list[Problem]:
    """Problems of the given languages (all by default), the first `limit` of each."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BenchmarkError(f"{directory}: benchmark directory not found")
    problems: list[Problem] = []
    python_examples = _python_example_tests(directory)
    for language in languages or LANGUAGES:
        path = directory / f"{language}.jsonl.gz"
        if not path.is_file():
            raise BenchmarkError(f"{path}: no {language} file in the benchmark (expected <language>.jsonl.gz)")
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for n, line in enumerate(lines):
                if limit is not None and n >= limit:
                    break
                problems.append(_problem(language, json.loads(line), f"{path}:{n + 1}", python_examples))
    return problems


def _python_example_tests(directory: Path) -> dict[str, str]:
    """The Python example tests by task number ("12"): the source of the other languages' missing ones."""
    path = directory / "python.jsonl.gz"
    if not path.is_file():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return {row["task_id"].split("/")[-1]: row.get("example_test") or "" for row in rows}


def _problem(language: str, row: dict, where: str, python_examples: dict[str, str]) -> Problem:
    try:
        prompt, test = row["prompt"], row["test"]
    except KeyError as exc:
        raise BenchmarkError(f"{where}: missing field {exc}") from exc
    spec = language_spec(language)
    head = spec.prompt_head(row)
    stub = head + prompt + spec.stub_closer
    example = row.get("example_test") or ""
    substitute, reason = example.strip() in ("", "None"), ""
    if substitute and row["task_id"] in EXAMPLES_DISAGREE:
        reason = "the canonical solution disagrees with the Python example (benchmarks/visible_examples.py)"
    elif substitute:
        python_example = python_examples.get(row["task_id"].split("/")[-1], "")
        generated, reason = generated_visible_test(language, row, python_example)
        example, substitute = (generated, False) if generated else (example, True)
    return Problem(
        task_id=row["task_id"],
        language=language,
        entry_point=_declared_function(stub, language, where),
        stub_source=stub,
        reference_source=head + prompt + row["canonical_solution"],
        buggy_source=head + prompt + row["buggy_solution"] if row.get("buggy_solution") else "",
        hidden_test=test,
        visible_test=spec.build_only_test if substitute else example,
        visible_is_substitute=substitute,
        test_setup=row.get("test_setup", ""),
        substitute_reason=reason,
    )


def _declared_function(stub: str, language: str, where: str) -> str:
    """The function the prompt ends with. Read from the code, not `entry_point`: 14 HumanEvalPack records
    (e.g. Java/99) name another function there."""
    last_line = stub.rstrip("\n").count("\n") - language_spec(language).stub_closer.count("\n")
    try:
        return find_function(stub, language, line=last_line).name
    except FunctionNotFound as exc:
        raise BenchmarkError(f"{where}: the prompt declares no function: {exc}") from exc
