"""EffiBench-X: the real Aizu problem passes with each upstream language's canonical solution and with a Rust
one written here, on all 100 tests, in the real toolchains; wrong answers and hostile evaluators fail it; a
functional problem in the same format (written here) runs inside its runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
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

REAL = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "effibench-x"
YOKOHAMA = REAL / "aizu_1444_yokohama-phenomena.json"

RUST_YOKOHAMA = """use std::io::{self, Read};

const WORD: &[u8] = b"YOKOHAMA";

fn traces(grid: &[Vec<u8>], i: usize, j: usize, k: usize) -> u64 {
    if k == WORD.len() - 1 {
        return 1;
    }
    let (n, m) = (grid.len() as i64, grid[0].len() as i64);
    let mut count = 0;
    for (di, dj) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
        let (ni, nj) = (i as i64 + di, j as i64 + dj);
        if ni >= 0 && ni < n && nj >= 0 && nj < m && grid[ni as usize][nj as usize] == WORD[k + 1] {
            count += traces(grid, ni as usize, nj as usize, k + 1);
        }
    }
    count
}

fn main() {
    let mut text = String::new();
    io::stdin().read_to_string(&mut text).unwrap();
    let mut words = text.split_whitespace();
    let n: usize = words.next().unwrap().parse().unwrap();
    let _m: usize = words.next().unwrap().parse().unwrap();
    let grid: Vec<Vec<u8>> = (0..n).map(|_| words.next().unwrap().as_bytes().to_vec()).collect();
    let mut total = 0;
    for i in 0..n {
        for j in 0..grid[i].len() {
            if grid[i][j] == b'Y' {
                total += traces(&grid, i, j, 0);
            }
        }
    }
    println!("{}", total);
}
"""

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


# Runners as upstream's prompts.py has them generated: the placeholder at the top, then stdin -> call -> stdout.
GO_RUNNER = """==Code Submission==

func main() {
	var text []byte
	text, _ = io.ReadAll(os.Stdin)
	var parsed []json.RawMessage
	json.Unmarshal(text, &parsed)
	var nums []int
	var target int
	json.Unmarshal(parsed[0], &nums)
	json.Unmarshal(parsed[1], &target)
	answer := twoSum(nums, target)
	fmt.Printf("[%d, %d]\\n", answer[0], answer[1])
}
"""
GO_TWO_SUM = """import "sort"

func twoSum(nums []int, target int) []int {
	seen := map[int]int{}
	for i, n := range nums {
		if j, ok := seen[target-n]; ok {
			return []int{j, i}
		}
		seen[n] = i
	}
	_ = sort.Ints
	return nil
}
"""
JAVA_RUNNER = """import java.util.regex.*;

==Code Submission==

public class Main {
    public static void main(String[] args) throws IOException {
        String text = new String(System.in.readAllBytes()).replaceAll("[\\\\[\\\\]]", " ").trim();
        String[] parts = text.split("[ ,]+");
        int[] nums = new int[parts.length - 1];
        for (int i = 0; i < nums.length; i++) nums[i] = Integer.parseInt(parts[i]);
        int[] answer = new Solution().twoSum(nums, Integer.parseInt(parts[parts.length - 1]));
        System.out.println("[" + answer[0] + ", " + answer[1] + "]");
    }
}
"""
JAVA_TWO_SUM = """import java.util.HashMap;

class Solution {
    public int[] twoSum(int[] nums, int target) {
        HashMap<Integer, Integer> seen = new HashMap<>();
        for (int i = 0; i < nums.length; i++) {
            if (seen.containsKey(target - nums[i])) return new int[] {seen.get(target - nums[i]), i};
            seen.put(nums[i], i);
        }
        return null;
    }
}
"""


def _two_sum_record() -> dict:
    """A LeetCode-style functional problem in EffiBench-X's format: tests, runner and evaluator as upstream's."""
    tests = [{"input": json.dumps([[2, 7, 11, 15], 9]), "output": "[0, 1]"}]
    tests += [{"input": json.dumps([[1, n, 50, n + 1], 2 * n + 1]), "output": "[1, 3]"} for n in range(2, 12)]
    runner = (
        "==Code Submission==\n\n"
        "nums, target = json.loads(sys.stdin.read())\n"
        "print(json.dumps(Solution().twoSum(nums, target)))\n"
    )
    solution = (
        "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
        "        seen = {}\n        for i, n in enumerate(nums):\n            if target - n in seen:\n"
        "                return [seen[target - n], i]\n            seen[n] = i\n"
    )
    return {
        "id": "1", "title": "Two Sum", "title_slug": "two-sum", "source": "leetcode", "type": "functional",
        "description": "Return the indices of the two numbers that add up to target.",
        "description_md": "Return the indices of the two numbers that add up to target.",
        "starter_code": {"python3": solution.split("        seen")[0]},
        "solutions": {
            "python3": {"code": solution, "runtime": 1, "memory": 1},
            "golang": {"code": GO_TWO_SUM, "runtime": 1, "memory": 1},
            "java": {"code": JAVA_TWO_SUM, "runtime": 1, "memory": 1},
        },
        "evaluator": "def evaluate(expected_output, program_output):\n    import json\n"
        "    return json.loads(expected_output) == json.loads(program_output)\n",
        "generated_tests": json.dumps(tests),
        "test_runners": {"python3": runner, "golang": GO_RUNNER, "java": JAVA_RUNNER},
    }  # fmt: skip


async def test_a_functional_problem_runs_inside_its_runner(tmp_path):
    (tmp_path / "leetcode_1_two-sum.json").write_text(json.dumps(_two_sum_record()))
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


@pytest.mark.parametrize("language", ["go", "java"])
async def test_functional_go_and_java_merge_the_answers_imports_into_the_runner(tmp_path, language):
    (tmp_path / "leetcode_1_two-sum.json").write_text(json.dumps(_two_sum_record()))
    [problem] = load_effibench(tmp_path)
    source = program(problem, language, problem.solutions[language])
    assert source.count("package main") == (language == "go") and "==Code Submission==" not in source
    if language == "java":  # every import before the first class
        assert source.rindex("import java.util.HashMap;") < source.index("class Solution")
    run = await run_solution(problem, language, problem.solutions[language])
    assert run.outcome is Outcome.PASSED, run.detail


def test_a_codechef_class_is_run_as_main(yokohama):
    codechef = "import java.util.*;\nclass Codechef {\n    public static void main(String[] a) {}\n}\n"
    assert "class Main {" in program(yokohama, "java", codechef)


def test_a_directory_without_effibench_files_is_refused_with_the_fix(tmp_path):
    (tmp_path / "python.jsonl.gz").write_bytes(b"")
    assert not is_effibench(tmp_path)
    with pytest.raises(EffiBenchError, match="hf_dataset.py"):
        load_effibench(tmp_path)


def test_eval_detects_effibench_and_says_what_to_run_instead(tmp_path):
    env = {**os.environ, "PERFORCH_DATA_DIR": str(tmp_path / "data"), "PERFORCH_CONFIG_DIR": str(tmp_path / "c")}
    command = [sys.executable, "-m", "perforch.cli", "eval", "--benchmark", str(REAL), "--single-model", "m"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "is EffiBench-X data" in done.stderr and "benchmarks/effibench_canonical.py" in done.stderr
