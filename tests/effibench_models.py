"""EffiBench-X fixtures and scripted models, shared by the tests and benchmarks/effibench_eval.py.

Fixtures: the real Aizu problem (io) in ../shared/benchmarks/effibench-x, a Rust answer to it written here (the
data has none), and a LeetCode-style functional problem (Two Sum) in the same format, with runners in Python,
Go, Java and C++ as upstream's prompts.py has them generated, and one in Rust (which the real data lacks).

Scripted models (one policy, dispatching on the model name; each reads the language from the system prompt and
the problem from the statement it is shown):
- `canonical` answers every stage with the problem's canonical solution (Rust: ours);
- `wrong` answers with the canonical solution broken by one of BUGS (an off-by-one, swapped indices), in Python
  also made slow by a WASTE line;
- `fixer`, asked to debug, undoes those bugs in the code it is shown (the waste stays); asked to refine, it drops
  the waste from the code it is shown; asked to generate, it answers like `wrong`;
- `overfit` (Python) answers with a program that prints the shown examples' outputs and guesses otherwise: it
  passes the visible tests and fails the hidden ones.
Every prompt is kept (`prompts`: (model, system, user)), so a test can read what a model was shown.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "effibench-x"
YOKOHAMA = REAL / "aizu_1444_yokohama-phenomena.json"
CANONICAL, WRONG, FIXER, OVERFIT = "canonical", "wrong", "fixer", "overfit"
MODELS = (CANONICAL, WRONG, FIXER, OVERFIT)

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


CPP_RUNNER = """==Code Submission==

int main() {
    string text((istreambuf_iterator<char>(cin)), istreambuf_iterator<char>());
    for (char &c : text) if (c == '[' || c == ']' || c == ',') c = ' ';
    istringstream in(text);
    vector<int> values;
    int value;
    while (in >> value) values.push_back(value);
    vector<int> nums(values.begin(), values.end() - 1);
    vector<int> answer = Solution().twoSum(nums, values.back());
    cout << "[" << answer[0] << ", " << answer[1] << "]" << endl;
}
"""
CPP_TWO_SUM = """class Solution {
public:
    vector<int> twoSum(vector<int>& nums, int target) {
        unordered_map<int, int> seen;
        for (int i = 0; i < (int) nums.size(); i++) {
            auto found = seen.find(target - nums[i]);
            if (found != seen.end()) return {found->second, i};
            seen[nums[i]] = i;
        }
        return {};
    }
};
"""

# EffiBench-X has no Rust runners; this one is written here as upstream's are generated (LeetCode's Rust
# shape: the answer is `impl Solution`), to run a functional problem in Rust where the data carries a runner.
RUST_RUNNER = """use std::io::Read;

struct Solution;

==Code Submission==

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).unwrap();
    let values: Vec<i32> = text.replace(['[', ']', ','], " ").split_whitespace().map(|v| v.parse().unwrap()).collect();
    let (nums, target) = (values[..values.len() - 1].to_vec(), values[values.len() - 1]);
    let answer = Solution::two_sum(nums, target);
    println!("[{}, {}]", answer[0], answer[1]);
}
"""
RUST_TWO_SUM = """use std::collections::HashMap;

impl Solution {
    pub fn two_sum(nums: Vec<i32>, target: i32) -> Vec<i32> {
        let mut seen = HashMap::new();
        for (i, n) in nums.iter().enumerate() {
            if let Some(&j) = seen.get(&(target - n)) {
                return vec![j as i32, i as i32];
            }
            seen.insert(*n, i);
        }
        vec![]
    }
}
"""


def two_sum_record() -> dict:
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
            "cpp": {"code": CPP_TWO_SUM, "runtime": 1, "memory": 1},
            "rust": {"code": RUST_TWO_SUM, "runtime": 1, "memory": 1},
        },
        "evaluator": "def evaluate(expected_output, program_output):\n    import json\n"
        "    return json.loads(expected_output) == json.loads(program_output)\n",
        "generated_tests": json.dumps(tests),
        "test_runners": {
            "python3": runner, "golang": GO_RUNNER, "java": JAVA_RUNNER, "cpp": CPP_RUNNER, "rust": RUST_RUNNER,
        },
    }  # fmt: skip


# (right, wrong): each turns a canonical solution of one language into a wrong one, and back.
BUGS = (
    ("print(ans)", "print(ans + 1)"),
    ("fmt.Println(ans)", "fmt.Println(ans + 1)"),
    ("System.out.println(total);", "System.out.println(total + 1);"),
    ("cout << result << endl;", "cout << result + 1 << endl;"),
    ('println!("{}", total);', 'println!("{}", total + 1);'),
    ("return [seen[target - n], i]", "return [i, seen[target - n]]"),
    ("return []int{j, i}", "return []int{i, j}"),
    ("return new int[] {seen.get(target - nums[i]), i};", "return new int[] {i, seen.get(target - nums[i])};"),
    ("return {found->second, i};", "return {i, found->second};"),
    ("return vec![j as i32, i as i32];", "return vec![i as i32, j as i32];"),
)


# Useless work at the top of a Python program: about 20-40 ms of CPU time per run, so dropping it is measurable.
WASTE = "_scripted_waste = sum(i * i for i in range(300000))\n"


def write_fixtures(directory: Path) -> Path:
    """An EffiBench-X directory holding the real Aizu problem and the functional Two Sum fixture."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(YOKOHAMA, directory / YOKOHAMA.name)
    (directory / "leetcode_1_two-sum.json").write_text(json.dumps(two_sum_record()), encoding="utf-8")
    return directory


class EffiBenchModels:
    def __init__(self) -> None:
        self.records = {"YOKOHAMA": json.loads(YOKOHAMA.read_text()), "add up to target": two_sum_record()}
        self.prompts: list[tuple[str, str, str]] = []

    def __call__(self, model: str, messages: list[dict]) -> str:
        system, user = messages[0]["content"], messages[-1]["content"]
        self.prompts.append((model, system, user))
        if "classify" in system:
            return "graph"
        language = re.search(r"expert (?:in )?(\w+)", system).group(1)
        record = next(r for marker, r in self.records.items() if marker in user)
        if model == OVERFIT:
            return _fenced(language, _overfit(record))
        right = _canonical(record, language)
        if model == CANONICAL:
            return _fenced(language, right)
        if model == FIXER and "debugger" in system:
            return _fenced(language, _repaired(_shown(user)))
        if model == FIXER and "performance" in system:
            return _fenced(language, _shown(user).replace(WASTE, ""))
        return _fenced(language, _broken(WASTE + right if language == "python" else right))


def _shown(user: str) -> str:
    """The code a debug or refine prompt shows (its `The current implementation:` or `The implementation:`)."""
    return re.search(r"implementation:\n```\w*\n(.*?)\n```\n", user, re.DOTALL).group(1) + "\n"


def _canonical(record: dict, language: str) -> str:
    if language == "rust" and "rust" not in record["solutions"]:
        return RUST_YOKOHAMA
    key = {"python": "python3", "go": "golang"}.get(language, language)
    return record["solutions"][key]["code"]


def _broken(code: str) -> str:
    right, wrong = next((r, w) for r, w in BUGS if r in code)
    return code.replace(right, wrong)


def _repaired(code: str) -> str:
    for right, wrong in BUGS:
        code = code.replace(wrong, right)
    return code


def _overfit(record: dict) -> str:
    """A Python submission that looks the shown examples up (the first 3 tests) and guesses otherwise."""
    tests = json.loads(record["generated_tests"])[:3]
    known = {t["input"].strip(): t["output"].strip() for t in tests}
    if record["type"] == "io":
        return f"import sys\nprint({known!r}.get(sys.stdin.read().strip(), '0'))\n"
    return (
        "class Solution:\n    def twoSum(self, nums, target):\n"
        f"        return json.loads({known!r}.get(json.dumps([nums, target]), '[0, 1]'))\n"
    )


def _fenced(language: str, code: str) -> str:
    return f"Here is the solution.\n```{language}\n{code.rstrip()}\n```\n"
