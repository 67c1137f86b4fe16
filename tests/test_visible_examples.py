"""Visible tests made from HumanEvalPack's Python examples, run by the real toolchains: the canonical
solution passes them and HumanEvalPack's buggy solution fails them, in Java, C++, Go and Rust; and with a
generator that is always wrong (its code builds, then fails when called) and a fixer that repairs what it
is shown, `perforch eval` solves every Rust problem of a small sample (issue 14, part 7)."""

from __future__ import annotations

import gzip
import json

import pytest
from humaneval_models import BENCHMARK, _current_implementation, _fenced
from perforch.orchestration.benchmark import KNOWN_FLAKY, load_benchmark
from perforch.orchestration.checking import close_all, get_toolchain
from perforch.orchestration.task import Limits, Outcome, Program
from perforch.orchestration.visible_examples import visible_test
from test_profile_eval import perforch

TYPED = ("java", "cpp", "go", "rust")
# Floats, optionals, tuples, maps (with char keys too), bools carried as strings, examples
# written as tuple(...) == tuple(...); in each the buggy solution gets an example wrong.
SAMPLE = (0, 12, 20, 37, 95, 107, 111, 112)


def rows(language: str) -> list[dict]:
    with gzip.open(BENCHMARK / f"{language}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(autouse=True)
async def toolchains_closed():
    yield
    await close_all()


@pytest.mark.slow
@pytest.mark.parametrize("language", TYPED)
async def test_canonical_solutions_pass_the_generated_tests_and_buggy_ones_fail(language):
    python, typed = rows("python"), rows(language)
    problems = {p.task_id: p for p in load_benchmark(BENCHMARK, [language])}
    toolchain = get_toolchain(language)
    for number in SAMPLE:
        row = typed[number]
        if row["task_id"] in KNOWN_FLAKY:  # Go/95's canonical solution depends on map order
            continue
        problem = problems[row["task_id"]]
        test = visible_test(language, row, python[number]["example_test"])
        for source, should_pass in ((problem.reference_source, True), (problem.buggy_source, False)):
            program = Program(language, source, test, problem.test_setup)
            verdict = await toolchain.build_and_test(program, Limits(wall_seconds=30))
            assert verdict.passed == should_pass, (row["task_id"], should_pass, verdict.diagnostics[:600])
            if not should_pass:
                assert verdict.outcome == Outcome.TEST_FAILED, (row["task_id"], verdict.diagnostics[:600])


class WrongThenFixed:
    """A scripted model: asked to write, it writes code that builds and fails when called; asked to
    debug, it answers the canonical solution."""

    def __init__(self) -> None:
        self.rows = {row["prompt"].strip(): row for row in rows("rust")}

    def __call__(self, model: str, messages: list[dict]) -> str:
        system, user = messages[0]["content"], messages[-1]["content"]
        if "classify" in system:
            return "math"
        row = next(row for prompt, row in self.rows.items() if prompt in user)
        if "debugger" in system:
            return _fenced("rust", row["prompt"] + row["canonical_solution"])
        if "performance" in system:
            return _fenced("rust", _current_implementation(user))
        wrong = '    if std::hint::black_box(true) { panic!("scripted wrong answer"); }\n'
        return _fenced("rust", row["prompt"] + wrong + row["canonical_solution"])


@pytest.mark.slow
def test_a_fixer_repairs_every_rust_problem_a_wrong_generator_starts(tmp_path):
    from scripted_server import start_scripted_server

    with start_scripted_server(WrongThenFixed()) as server:
        model = f'[models.fixer]\nmodel = "openai/fixer"\napi_base = "{server.base_url}"\n'
        model += 'api_key_env = "PERFORCH_TEST_KEY"\n'
        pipeline = '[pipeline]\nmodels = ["fixer"]\ndebug_rounds = 1\nrefine_runs = 2\ntest_timeout = 30.0\n'
        (tmp_path / "perforch.toml").write_text(f"{model}\n{pipeline}")
        run = perforch(
            "eval", "--benchmark", str(BENCHMARK), "--languages", "rust", "--limit", "5",
            "--single-model", "fixer", "--json", cwd=tmp_path,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    score = json.loads(run.stdout)["languages"]["rust"]
    print(score)
    assert score["total"] == 5 and score["pass@1"] >= 0.99, score
