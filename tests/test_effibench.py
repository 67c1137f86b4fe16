"""EffiBench-X: the real Aizu problem passes with each upstream language's canonical solution and with a Rust
one written here, on all 100 tests, in the real toolchains; wrong answers and hostile evaluators fail it; a
functional problem in the same format (written here) runs inside its runner."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from effibench_models import REAL, RUST_YOKOHAMA, YOKOHAMA, two_sum_record
from perforch.orchestration.efficiency.effibench import (
    EffiBenchError,
    efficiency,
    is_effibench,
    load_effibench,
    load_problem,
    program,
    run_solution,
)
from perforch.orchestration.task import Limits, Outcome

QUICK_EVALUATOR = Limits(wall_seconds=3.0, memory_mb=512, output_bytes=1024 * 1024)


@pytest.fixture(scope="module")
def yokohama():
    return load_problem(YOKOHAMA)


def test_the_real_record_loads_with_every_field_it_needs(yokohama):
    assert yokohama.kind == "io" and yokohama.key == "aizu_1444_yokohama-phenomena"
    assert len(yokohama.tests) == 100 and yokohama.tests[0].input == "2 4\nYOHA\nOKAM"
    assert set(yokohama.solutions) == {"python", "java", "cpp", "go"}  # javascript and ruby are not ours
    assert "def evaluate(" in yokohama.evaluator
    assert is_effibench(REAL) and [p.key for p in load_effibench(REAL)] == [yokohama.key]
    prompt = yokohama.prompt("python")
    assert "Yokohama Phenomena" in prompt and "Example 3" in prompt and "Example 4" not in prompt


@pytest.mark.parametrize("language", ["python", "cpp", "go", "java"])
async def test_upstream_canonical_solutions_pass_all_100_tests(yokohama, language):
    run = await run_solution(yokohama, language, yokohama.solutions[language])
    assert run.outcome is Outcome.PASSED, run.detail
    assert (run.tests, run.passed_tests) == (100, 100) and run.cpu_seconds > 0


async def test_our_rust_solution_passes_all_100_tests(yokohama):
    run = await run_solution(yokohama, "rust", RUST_YOKOHAMA)
    assert run.outcome is Outcome.PASSED, run.detail
    assert run.passed_tests == 100


async def test_a_wrong_answer_fails_and_scores_zero(yokohama):
    wrong = yokohama.solutions["python"].replace("print(ans)", "print(ans + 1)")
    run = await run_solution(yokohama, "python", wrong, yokohama.tests[:10])
    assert run.outcome is Outcome.TEST_FAILED and "test 1 of 10: wrong output" in run.detail
    right = await run_solution(yokohama, "python", yokohama.solutions["python"], yokohama.tests[:10])
    assert efficiency(right, run) == 0.0
    assert efficiency(right, right) == 1.0
    assert efficiency(run, right) is None  # no passing reference: nothing to compare with


async def test_a_crashing_program_fails_on_its_first_test(yokohama):
    run = await run_solution(yokohama, "cpp", "int main() { return *(volatile int*)0; }", yokohama.tests[:10])
    assert run.outcome is Outcome.TEST_FAILED and "test 1 of 10" in run.detail and "signal" in run.detail


async def test_an_evaluator_that_loops_is_stopped(yokohama):
    looping = replace(
        yokohama, evaluator="def evaluate(expected_output, program_output):\n    while True:\n        pass\n"
    )
    run = await run_solution(looping, "python", yokohama.solutions["python"], yokohama.tests[:5], None, QUICK_EVALUATOR)
    assert run.outcome is Outcome.TEST_FAILED and "the evaluator ran longer than 3 s and was stopped" in run.detail


async def test_an_evaluator_cannot_read_files(yokohama):
    # /etc/passwd is readable by the sandbox uid: only the evaluator's audit hook stops this read.
    reads = "def evaluate(expected_output, program_output):\n    return len(open('/etc/passwd').read()) > 0\n"
    answer, tests = yokohama.solutions["python"], yokohama.tests[:5]
    run = await run_solution(replace(yokohama, evaluator=reads), "python", answer, tests)
    assert run.outcome is Outcome.TEST_FAILED and "wrong output" in run.detail
    lists = "import os\ndef evaluate(expected_output, program_output):\n    return bool(os.listdir('/'))\n"
    run = await run_solution(replace(yokohama, evaluator=lists), "python", answer, tests)
    assert run.outcome is Outcome.TEST_FAILED


async def test_a_functional_problem_runs_inside_its_runner(tmp_path):
    record = two_sum_record()
    del record["test_runners"]["cpp"], record["test_runners"]["rust"]  # as in the real data: no Rust runner
    (tmp_path / "leetcode_1_two-sum.json").write_text(json.dumps(record))
    [problem] = load_effibench(tmp_path)
    assert problem.kind == "functional" and len(problem.tests) == 11
    assert "Complete this code:\nclass Solution:" in problem.prompt("python")
    source = program(problem, "python", problem.solutions["python"])
    assert source.index("from collections import") < source.index("class Solution") < source.index("json.loads")
    run = await run_solution(problem, "python", problem.solutions["python"])
    assert run.outcome is Outcome.PASSED, run.detail
    wrong = problem.solutions["python"].replace("[seen[target - n], i]", "[i, seen[target - n]]")
    assert (await run_solution(problem, "python", wrong)).outcome is Outcome.TEST_FAILED
    rust = await run_solution(problem, "rust", "fn main() {}")
    assert rust.outcome is Outcome.INVALID and "no Rust runner" in rust.detail
    with pytest.raises(EffiBenchError, match="no cpp runner"):
        program(problem, "cpp", "class Solution {};")


@pytest.mark.parametrize("language", ["go", "java", "cpp", "rust"])
async def test_functional_programs_merge_the_answers_imports_into_the_runner(tmp_path, language):
    (tmp_path / "leetcode_1_two-sum.json").write_text(json.dumps(two_sum_record()))
    [problem] = load_effibench(tmp_path)
    source = program(problem, language, problem.solutions[language])
    assert source.count("package main") == (language == "go") and "==Code Submission==" not in source
    if language == "java":  # every import before the first class
        assert source.rindex("import java.util.HashMap;") < source.index("class Solution")
    run = await run_solution(problem, language, problem.solutions[language])
    assert run.outcome is Outcome.PASSED, run.detail


async def test_a_public_solution_class_runs_inside_the_java_runner(tmp_path):
    (tmp_path / "leetcode_1_two-sum.json").write_text(json.dumps(two_sum_record()))
    [problem] = load_effibench(tmp_path)
    answer = problem.solutions["java"].replace("class Solution {", "public class Solution {")
    source = program(problem, "java", answer)
    assert "public class Main" in source and "public class Solution" not in source
    run = await run_solution(problem, "java", answer)
    assert run.outcome is Outcome.PASSED, run.detail


def test_a_codechef_class_is_run_as_main(yokohama):
    codechef = "import java.util.*;\nclass Codechef {\n    public static void main(String[] a) {}\n}\n"
    assert "class Main {" in program(yokohama, "java", codechef)


def test_a_directory_without_effibench_files_is_refused_with_the_fix(tmp_path):
    (tmp_path / "python.jsonl.gz").write_bytes(b"")
    assert not is_effibench(tmp_path)
    with pytest.raises(EffiBenchError, match="hf_dataset.py"):
        load_effibench(tmp_path)
