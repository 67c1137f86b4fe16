"""The splicer on real tree-sitter parses: code out of answers, functions found, stubs told, answers spliced.

Three layers: the 5 x 164 HumanEvalPack problems (the files the pipeline really splices into), hand-written
cases for each rule, and a hypothesis property over generated files and answers.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perforch.orchestration.stubs import (
    AnswerError,
    FunctionIndex,
    FunctionNotFound,
    SpliceError,
    extract_code_block,
    find_function,
    is_stub,
    splice,
)
from perforch.orchestration.stubs.syntax import syntax_for
from perforch.orchestration.stubs.trees import is_grammar_gap, parse, syntax_errors

LANGUAGES = ("python", "java", "cpp", "go", "rust")
HUMANEVALPACK = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "humanevalpack"
# What closes a HumanEval prompt (which stops inside the function) into a stub file.
STUB_CLOSERS = {"python": "", "java": "    }\n}\n", "cpp": "}\n", "go": "}\n", "rust": "}\n"}
# Canonical solutions that use `typeid(int)`, which tree-sitter-cpp cannot parse (one-line grammar gaps).
GRAMMAR_GAPS = {"CPP/22", "CPP/137"}


def errors(source: str, language: str) -> list:
    return syntax_errors(parse(syntax_for(language), source).root)


def words(text: str) -> str:
    return " ".join(text.split())


# -- HumanEvalPack ---------------------------------------------------------------------------------------------


@cache
def problems(language: str) -> list[dict]:
    path = HUMANEVALPACK / f"{language}.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def declared_function(problem: dict, language: str):
    """The function the prompt opens. Its name, not `entry_point`: 14 records name another function
    (Java/99 `closest_integer` declares `countUpper`, Rust/61 `correct_bracketing_parenthesis`, ...)."""
    stub = problem["prompt"] + STUB_CLOSERS[language]
    return find_function(stub, language, line=problem["prompt"].rstrip("\n").count("\n"))


def import_lines(text: str, language: str) -> list[str]:
    pattern = {
        "python": r"(import|from) \S",
        "java": r"import ",
        "cpp": r"#\s*include|using namespace",
        "go": r'import "|"[\w/.]+"$',
        "rust": r"use ",
    }[language]
    return [words(line) for line in text.splitlines() if re.match(pattern, line.strip())]


def top_level_items(text: str, language: str) -> Counter:
    parsed = parse(syntax_for(language), text)
    return Counter(words(parsed.node_text(node)) for node in parsed.root.named_children)


@pytest.mark.parametrize("language", LANGUAGES)
def test_benchmark_stubs_are_stubs_and_solutions_are_not(language):
    for problem in problems(language):
        assert is_stub(declared_function(problem, language), language), problem["task_id"]
        solved = find_function(
            problem["prompt"] + problem["canonical_solution"], language, name=declared_function(problem, language).name
        )
        assert not is_stub(solved, language), problem["task_id"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_benchmark_whole_file_answer_gives_back_the_reference(language):
    """The answer repeats the prompt (helpers, imports, a Rust `fn main(){}`) and adds the solution."""
    for problem in problems(language):
        stub = problem["prompt"] + STUB_CLOSERS[language]
        reference = problem["prompt"] + problem["canonical_solution"]
        result = splice(stub, language, declared_function(problem, language).name, reference)
        assert _parses(result, language, problem["task_id"]), problem["task_id"]
        # The same items, modulo layout; helpers a solution defines after the function now come before it.
        assert top_level_items(result, language) == top_level_items(reference, language), problem["task_id"]
        lines = import_lines(result, language)
        assert len(lines) == len(set(lines)), problem["task_id"]
        scaffolded = SCAFFOLDING[language].format(reference)
        assert splice(stub, language, declared_function(problem, language).name, scaffolded) == result


# How models dress a whole-program answer: a package clause, a main, test prints. None of it may land.
SCAFFOLDING = {
    "python": '{}\n\nif __name__ == "__main__":\n    print("ok")\n',
    "java": "{}\n\npublic class Main {{\n    public static void main(String[] args) {{\n    }}\n}}\n",
    "cpp": "{}\n\nint main() {{\n    return 0;\n}}\n",
    "go": 'package main\n\nimport "fmt"\n\n{}\n\nfunc main() {{\n    fmt.Println("ok")\n}}\n',
    "rust": "{}\n\n#[cfg(test)]\nfn main() {{}}\n",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_benchmark_function_only_answer(language):
    """The answer is the signature and the canonical body, nothing else."""
    for problem in problems(language):
        span = declared_function(problem, language)
        stub = problem["prompt"] + STUB_CLOSERS[language]
        body = problem["canonical_solution"]
        if language == "java":
            body = body.rstrip().removesuffix("}")  # the canonical solution also closes the class
        answer = span.signature + ("\n" if language == "python" else " {\n") + body
        result = splice(stub, language, span.name, answer)
        assert _parses(result, language, problem["task_id"]), problem["task_id"]
        reference = (problem["prompt"] + problem["canonical_solution"]).encode()
        solved = find_function(reference.decode(), language, name=span.name)
        written = reference[len(problem["prompt"].encode()) : solved.end_byte].decode()  # the canonical function part
        assert words(written) in words(result), problem["task_id"]
        assert result.count(span.signature) == 1, problem["task_id"]
        lines = import_lines(result, language)
        assert len(lines) == len(set(lines)), problem["task_id"]


def _parses(result: str, language: str, task_id: str) -> bool:
    problems_found = errors(result, language)
    if task_id in GRAMMAR_GAPS:
        return all(is_grammar_gap(error, syntax_for(language)) for error in problems_found)
    return not problems_found


# -- extract_code_block --------------------------------------------------------------------------------------


def test_extract_prefers_the_block_tagged_with_the_language():
    answer = "Here:\n```text\nlots of output lines here\n```\n```py\ndef f():\n    return 1\n```\nDone."
    assert extract_code_block(answer, "python") == "def f():\n    return 1\n"


@pytest.mark.parametrize(
    ("tag", "language"),
    [("python3", "python"), ("c++", "cpp"), ("cc", "cpp"), ("golang", "go"), ("rs", "rust"), ("Java", "java")],
)
def test_extract_understands_tag_aliases(tag, language):
    answer = f"```bash\nmake && ./run --with many --arguments\n```\n```{tag}\ncode\n```"
    assert extract_code_block(answer, language) == "code\n"


def test_extract_takes_the_largest_of_several_tagged_blocks():
    answer = "```go\nfunc A() {}\n```\nand\n```go\nfunc B() int {\n    return 2\n}\n```"
    assert extract_code_block(answer, "go") == "func B() int {\n    return 2\n}\n"


def test_extract_falls_back_to_untagged_then_any_block():
    assert extract_code_block("```\nfn f() {}\n```", "rust") == "fn f() {}\n"
    assert extract_code_block("```python\ndef f(): pass\n```", "java") == "def f(): pass\n"


def test_extract_handles_indented_unclosed_and_thinking_answers():
    assert extract_code_block("1. Code:\n   ```java\n   int f() {\n       return 1;\n   }\n   ```", "java") == (
        "int f() {\n    return 1;\n}\n"
    )
    assert extract_code_block("```rust\nfn f() {\n", "rust") == "fn f() {\n"  # the model ran out of tokens
    thinking = "<think>\n```python\ndef draft(): pass\n```\n</think>\n```python\ndef f(): pass\n```"
    assert extract_code_block(thinking, "python") == "def f(): pass\n"


def test_extract_takes_bare_code_that_parses():
    assert extract_code_block("def f(x):\n    return x\n", "python") == "def f(x):\n    return x\n"
    assert extract_code_block("\r\nfunc F() int {\r\n\treturn 1\r\n}\r\n", "go") == "func F() int {\n\treturn 1\n}\n"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("```java\n\n```", "code block is empty"),
        ("I am sorry, I cannot help with that.", "contains no code"),
        ("Sorry", "contains no code"),  # parses as a Python expression, but defines nothing
    ],
)
def test_extract_refuses_answers_without_code(answer, reason):
    with pytest.raises(AnswerError, match=reason):
        extract_code_block(answer, "python" if answer == "Sorry" else "java")


# -- splice: refusals ----------------------------------------------------------------------------------------

JAVA_STUB = """import java.util.*;

class Solution {
    /** Adds one. */
    public int addOne(int x) {
    }
}
"""


def test_refuses_when_the_file_lacks_the_target():
    with pytest.raises(SpliceError, match="file has no function `subtract`"):
        splice(JAVA_STUB, "java", "subtract", "int subtract(int a) { return a; }")


def test_refuses_an_answer_in_another_language():
    with pytest.raises(SpliceError, match="looks like Python code, not Java"):
        splice(JAVA_STUB, "java", "addOne", "def addOne(x):\n    return x + 1\n")
    with pytest.raises(SpliceError, match="looks like Java code, not Python"):
        splice("def f(x):\n    pass\n", "python", "f", "public int f(int x) { return x + 1; }")


def test_refuses_an_answer_without_the_function():
    with pytest.raises(SpliceError, match=r"contains no function `addOne` \(it defines `addTwo`\)"):
        splice(JAVA_STUB, "java", "addOne", "public int addTwo(int x) { return x + 2; }")
    with pytest.raises(SpliceError, match="contains no function `addOne`"):
        splice(JAVA_STUB, "java", "addOne", "Just add one to x.")
    with pytest.raises(SpliceError, match="empty"):
        splice(JAVA_STUB, "java", "addOne", "  \n")


def test_refuses_a_function_that_does_not_parse():
    with pytest.raises(SpliceError, match="does not parse as Java"):
        splice(JAVA_STUB, "java", "addOne", "public int addOne(int x) {\n    return (x + 1;\n}")
    with pytest.raises(SpliceError, match="does not parse as Rust"):
        splice("fn f() -> i32 {\n}\n", "rust", "f", "fn f() -> i32 {\n    let x = vec![1, 2;\n    x[0]\n")


def test_tolerates_a_one_line_grammar_gap_inside_the_body():
    source = "#include <typeinfo>\nbool f(int a) {\n}\n"
    answer = "bool f(int a) {\n    return typeid(a) == typeid(int);\n}\n"
    assert "typeid(int)" in splice(source, "cpp", "f", answer)


# -- splice: what lands where --------------------------------------------------------------------------------


def test_java_wrapper_class_gives_its_method_and_helpers_but_not_its_main():
    answer = """import java.util.*;
import java.util.stream.Collectors;

public class Solution {
    private static final int OFFSET = 1;
    private int unused = 7;

    public int addOne(int x) {
        return bump(x);
    }

    private int bump(int x) {
        return x + OFFSET;
    }

    public static void main(String[] args) {
        System.out.println(new Solution().addOne(1));
    }
}
"""
    assert (
        splice(JAVA_STUB, "java", "addOne", answer)
        == """import java.util.*;
import java.util.stream.Collectors;

class Solution {
    private static final int OFFSET = 1;

    private int bump(int x) {
        return x + OFFSET;
    }

    /** Adds one. */
    public int addOne(int x) {
        return bump(x);
    }
}
"""
    )


def test_java_bare_methods_go_into_the_class_at_its_indentation():
    answer = "public int addOne(int x) {\n    return twice(x) / 2 + 1;\n}\n\nint twice(int x) {\n    return 2 * x;\n}\n"
    result = splice(JAVA_STUB, "java", "addOne", answer)
    assert (
        "    int twice(int x) {\n        return 2 * x;\n    }\n\n    /** Adds one. */\n    public int addOne(int x) {\n"
        in (result)
    )
    assert result.endswith("        return twice(x) / 2 + 1;\n    }\n}\n")


PYTHON_FILE = '''"""Shapes."""

import math


class Circle:
    def __init__(self, r):
        self.r = r

    def area(self):
        """The area."""
        ...


def unrelated():
    return 0
'''


def test_python_method_stays_in_its_class_and_free_helpers_go_above_the_class():
    answer = """import math
from functools import lru_cache

def square(x):
    return x * x

def area(self):
    return math.pi * square(self.r)

def _check(self):
    return self.r >= 0

if __name__ == "__main__":
    print(area(Circle(1)))
assert square(2) == 4
print("done")
"""
    assert (
        splice(PYTHON_FILE, "python", "area", answer)
        == '''"""Shapes."""

import math
from functools import lru_cache


def square(x):
    return x * x


class Circle:
    def __init__(self, r):
        self.r = r

    def _check(self):
        return self.r >= 0

    def area(self):
        """The area."""
        return math.pi * square(self.r)


def unrelated():
    return 0
'''
    )


def test_python_keeps_used_constants_and_drops_test_assignments():
    answer = "MOD = 10**9 + 7\nresult = f(3)\n\ndef f(x):\n    return x % MOD\n"
    result = splice("def f(x):\n    pass\n", "python", "f", answer)
    assert result == "MOD = 10**9 + 7\n\n\ndef f(x):\n    return x % MOD\n"


def test_python_decorators_are_kept_unless_the_answer_brings_its_own():
    source = "import functools\n\n@functools.cache\ndef f(n):\n    pass\n"
    assert (
        splice(source, "python", "f", "def f(n):\n    return n")
        == "import functools\n\n@functools.cache\ndef f(n):\n    return n\n"
    )
    own = "@functools.lru_cache(None)\ndef f(n):\n    return n"
    assert (
        splice(source, "python", "f", own)
        == "import functools\n\n@functools.lru_cache(None)\ndef f(n):\n    return n\n"
    )


def test_python_future_imports_go_first():
    source = '"""Doc."""\nimport os\n\ndef f() -> int:\n    pass\n'
    answer = "from __future__ import annotations\nimport sys\n\ndef f() -> int:\n    return len(sys.argv)\n"
    assert splice(source, "python", "f", answer) == (
        '"""Doc."""\nfrom __future__ import annotations\n\nimport os\nimport sys\n\n'
        "def f() -> int:\n    return len(sys.argv)\n"
    )


def test_rust_method_in_impl_with_helpers_attributes_and_use_merging():
    source = """use std::collections::{HashMap, HashSet};

struct Counter;

impl Counter {
    /// Counts.
    pub fn count(&self, xs: &[i32]) -> usize {
        todo!()
    }
}

fn main() {}
"""
    answer = """use std::collections::HashMap;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug)]
struct Tally(usize);

impl Counter {
    #[inline]
    pub fn count(&self, xs: &[i32]) -> usize {
        let seen: HashSet<_> = xs.iter().collect();
        self.tally(seen.len()).0
    }

    fn tally(&self, n: usize) -> Tally {
        Tally(n)
    }
}

fn main() {
    println!("{}", Counter.count(&[1]));
}
"""
    assert (
        splice(source, "rust", "count", answer)
        == """use std::collections::{HashMap, HashSet};
use std::collections::BTreeMap;

struct Counter;

#[derive(Debug)]
struct Tally(usize);

impl Counter {
    fn tally(&self, n: usize) -> Tally {
        Tally(n)
    }

    /// Counts.
    #[inline]
    pub fn count(&self, xs: &[i32]) -> usize {
        let seen: HashSet<_> = xs.iter().collect();
        self.tally(seen.len()).0
    }
}

fn main() {}
"""
    )


def test_cpp_namespace_helpers_and_includes():
    source = """/* A library. */
#include <vector>
using namespace std;

namespace geo {
// The sum.
int total(const vector<int>& xs) {
    // TODO
    return 0;
}
}
"""
    answer = """#include<vector>
#include <numeric>
using namespace std;

static int add(int a, int b) { return a + b; }

int total(const vector<int>& xs) {
    return accumulate(xs.begin(), xs.end(), 0, add);
}

int main() {
    return total({1, 2}) == 3 ? 0 : 1;
}
"""
    assert (
        splice(source, "cpp", "total", answer)
        == """/* A library. */
#include <vector>
using namespace std;
#include <numeric>

namespace geo {
static int add(int a, int b) { return a + b; }

// The sum.
int total(const vector<int>& xs) {
    return accumulate(xs.begin(), xs.end(), 0, add);
}
}
"""
    )


def test_cpp_struct_helpers_keep_their_semicolon_and_typedefs_come_along_when_used():
    source = "#include <vector>\n\nint f(int n) {\n}\n"
    answer = "typedef long long ll;\nstruct P {\n    ll a;\n};\n\nint f(int n) {\n    P p{n};\n    return p.a;\n}\n"
    assert splice(source, "cpp", "f", answer) == (
        "#include <vector>\n\ntypedef long long ll;\n\nstruct P {\n    ll a;\n};\n\nint f(int n) {\n    P p{n};\n"
        "    return p.a;\n}\n"
    )


def test_cpp_overloads_pair_up_by_parameters():
    source = "int f(int a) {\n    return a;\n}\n\nint f(int a, int b) {\n}\n"
    answer = "int f(int a, int b) {\n    return f(a) + f(b);\n}\n"
    assert (
        splice(source, "cpp", "f", answer)
        == "int f(int a) {\n    return a;\n}\n\nint f(int a, int b) {\n    return f(a) + f(b);\n}\n"
    )


def test_go_imports_join_the_block_and_package_and_main_are_dropped():
    source = 'package main\n\nimport (\n    "fmt"\n)\n\n// Join joins.\nfunc Join(xs []string) string {\n}\n'
    answer = """package main

import (
\t"fmt"
\t"strings"
)
import "sort"

func Join(xs []string) string {
\tsort.Strings(xs)
\treturn strings.Join(xs, ",")
}

func main() {
\tfmt.Println(Join(nil))
}
"""
    assert splice(source, "go", "Join", answer) == (
        'package main\n\nimport (\n    "fmt"\n    "strings"\n    "sort"\n)\n\n// Join joins.\n'
        'func Join(xs []string) string {\n\tsort.Strings(xs)\n\treturn strings.Join(xs, ",")\n}\n'
    )


def test_go_imports_only_what_the_landing_code_uses():
    source = "package main\n\nfunc F() string {\n}\n"
    answer = 'import (\n\t"fmt"\n\tstr "strings"\n\t_ "embed"\n)\n\nfunc F() string {\n\treturn str.ToUpper("a")\n}\n\n'
    answer += "func main() {\n\tfmt.Println(F())\n}\n"
    assert splice(source, "go", "F", answer) == (
        'package main\n\nimport (\n\tstr "strings"\n\t_ "embed"\n)\n\nfunc F() string {\n\treturn str.ToUpper("a")\n}\n'
    )


def test_go_file_without_imports_gets_a_block_below_its_package():
    source = 'package main\n\n// F is f.\nfunc F() int {\n\tpanic("TODO")\n}\n'
    answer = 'import "math"\n\nfunc F() int {\n\treturn int(math.Sqrt(4))\n}\n'
    assert splice(source, "go", "F", answer) == (
        'package main\n\nimport (\n\t"math"\n)\n\n// F is f.\nfunc F() int {\n\treturn int(math.Sqrt(4))\n}\n'
    )


def test_go_methods_are_told_apart_by_receiver():
    source = (
        'package p\n\ntype A struct{}\ntype B struct{}\n\nfunc (a A) Name() string { return "a" }\n\n'
        "func Run() string {\n}\n"
    )
    answer = (
        'func (b B) Name() string { return "b" }\n\nfunc (a A) Name() string { return "z" }\n\n'
        "func Run() string {\n\treturn B{}.Name()\n}\n"
    )
    result = splice(source, "go", "Run", answer)
    assert 'func (b B) Name() string { return "b" }' in result
    assert '"z"' not in result  # the file's A.Name wins


def test_crlf_files_stay_crlf_and_other_bytes_stay_put():
    source = "import os\r\n\r\n\r\ndef f(x):\r\n    pass\r\n\r\n\r\ndef g():  # keep   me\r\n    return 1\r\n"
    answer = "import sys\n\ndef helper(x):\n    return x\n\ndef f(x):\n    return helper(x)\n"
    assert splice(source, "python", "f", answer) == (
        "import os\r\nimport sys\r\n\r\n\r\ndef helper(x):\r\n    return x\r\n\r\n\r\n"
        "def f(x):\r\n    return helper(x)\r\n\r\n\r\ndef g():  # keep   me\r\n    return 1\r\n"
    )


def test_python_docstring_of_the_file_survives_an_answer_without_one():
    source = 'class A:\n    def f(self, x):\n        """Spec:\n        return x doubled.\n        """\n'
    result = splice(source, "python", "f", "def f(self, x):\n    return 2 * x\n")
    assert result == (
        'class A:\n    def f(self, x):\n        """Spec:\n        return x doubled.\n        """\n'
        "        return 2 * x\n"
    )


def test_multiline_strings_keep_their_content_when_reindented():
    source = "class A {\n    String f() {\n    }\n}\n"
    answer = 'String f() {\n    return """\nline one\n  line two\n""";\n}\n'
    assert splice(source, "java", "f", answer) == (
        'class A {\n    String f() {\n        return """\nline one\n  line two\n""";\n    }\n}\n'
    )


# -- find_function -------------------------------------------------------------------------------------------

FIND_CASES = {
    "python": (
        'import os\n\nclass Shape:\n    """A shape."""\n\n    @property\n    def area(self) -> float:\n'
        '        """How big."""\n        return 0.0\n\n    def grow(self):\n        def inner():\n'
        "            return 1\n        return inner()\n",
        "area",
        "Shape",
        '"""How big."""',
    ),
    "java": (
        "class Shape {\n    /**\n     * How big.\n     */\n    @Override\n    public double area() {\n"
        "        return 0;\n    }\n\n    void grow() {\n        Runnable inner = () -> {};\n    }\n}\n",
        "area",
        "Shape",
        "/**\n     * How big.\n     */",
    ),
    "cpp": (
        "namespace geo {\nclass Shape {\n  public:\n    /// How big.\n    double area() const {\n        return 0;\n"
        "    }\n    void grow() {}\n};\n}\n",
        "area",
        "Shape",
        "/// How big.",
    ),
    "go": (
        "package geo\n\ntype Shape struct{}\n\n// Area is how big.\n// In square units.\n"
        "func (s *Shape) Area() float64 {\n\treturn 0\n}\n\nfunc (s *Shape) Grow() {}\n",
        "Area",
        "Shape",
        "// Area is how big.\n// In square units.",
    ),
    "rust": (
        "struct Shape;\n\nimpl Shape {\n    /// How big.\n    #[inline]\n    pub fn area(&self) -> f64 {\n        0.0\n"
        "    }\n\n    fn grow(&mut self) {}\n}\n",
        "area",
        "Shape",
        "/// How big.",
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_find_function_by_name_reports_the_method(language):
    source, name, container, doc = FIND_CASES[language]
    span = find_function(source, language, name=name)
    assert (span.name, span.container, span.doc) == (name, container, doc)
    assert source.encode()[span.start_byte : span.end_byte].decode() == span.text
    assert span.text.rstrip().endswith("}" if language != "python" else "return 0.0")
    assert span.indent == ("" if language == "go" else "    " if language != "cpp" else "    ")
    assert name in span.signature and "return" not in span.signature
    assert span.text.startswith({"python": "@property", "java": "@Override", "rust": "#[inline]"}.get(language, ""))
    assert "0" in span.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_find_function_by_line_takes_the_innermost_including_its_doc(language):
    source, name, _, _ = FIND_CASES[language]
    lines = source.splitlines()
    doc_line = next(n for n, line in enumerate(lines) if "how big" in line.lower())
    assert find_function(source, language, line=doc_line).name == name
    grow = next(n for n, line in enumerate(lines) if re.search(r"\b(grow|Grow)\b", line))
    assert find_function(source, language, line=grow).name.lower() == "grow"
    if language == "python":
        inner = next(n for n, line in enumerate(lines) if "return 1" in line)
        assert find_function(source, language, line=inner).name == "inner"


EXAMPLE_FILES = Path(__file__).resolve().parents[1] / "examples"
SUFFIXES = {".py", ".java", ".cpp", ".h", ".go", ".rs"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_function_index_answers_every_line_as_find_function_does(language):
    sources = [FIND_CASES[language][0]]
    sources += [path.read_text() for path in EXAMPLE_FILES.joinpath(language).rglob("*") if path.suffix in SUFFIXES]
    for source in sources:
        index = FunctionIndex(source, language)
        for line in range(source.count("\n") + 1):
            try:
                expected = find_function(source, language, line=line)
            except FunctionNotFound:
                with pytest.raises(FunctionNotFound):
                    index.at(line)
            else:
                assert index.at(line) == expected


def test_find_function_signals_what_it_did_not_find():
    with pytest.raises(FunctionNotFound, match="no function `nope`"):
        find_function("def f(): pass\n", "python", name="nope")
    with pytest.raises(FunctionNotFound, match=r"no function spans line 0 \(0-based\)"):
        find_function("import os\n\ndef f(): pass\n", "python", line=0)
    with pytest.raises(ValueError, match="name or a line"):
        find_function("def f(): pass\n", "python")


def test_find_function_reads_cpp_qualified_and_pointer_declarators_and_body_docs():
    source = "int* Box::make(int n) {\n    /* Make n boxes. */\n}\n"
    span = find_function(source, "c++", name="make")
    assert (span.container, span.doc, span.signature) == (None, "/* Make n boxes. */", "int* Box::make(int n)")


# -- is_stub -------------------------------------------------------------------------------------------------

STUBS = {
    "python": [
        "def f(x):\n    pass",
        "def f(x):\n    ...",
        'def f(x):\n    """Only a docstring."""',
        "def f(x):\n    raise NotImplementedError",
        'def f(x):\n    raise NotImplementedError("later")',
        "def f(x):\n    # TODO: write\n    return None",
        "def f(x) -> int:\n    # TODO\n    return 0",
    ],
    "java": [
        "int f() {}",
        "int f() {\n    // TODO\n}",
        'int f() {\n    throw new UnsupportedOperationException("Not implemented");\n}',
        "int f() {\n    throw new UnsupportedOperationException();\n}",
        "List<Integer> f() {\n    // TODO implement\n    return new ArrayList<>();\n}",
        "int f() {\n    return 0; // TODO\n}",
    ],
    "cpp": [
        "int f() {}",
        "int f() {\n    /* the spec */\n}",
        "vector<int> f() {\n    // TODO\n    return {};\n}",
        'int f() {\n    throw std::logic_error("not implemented");\n}',
    ],
    "go": [
        "func F() int {\n}",
        'func F() int {\n\tpanic("TODO")\n}',
        'func F() int {\n\tpanic("not implemented")\n}',
        "func F() (int, error) {\n\t// TODO\n\treturn 0, nil\n}",
        "func F() []int {\n\t// TODO\n\treturn nil\n}",
    ],
    "rust": [
        "fn f() -> i32 {\n}",
        "fn f() -> i32 {\n    todo!()\n}",
        'fn f() -> i32 {\n    unimplemented!("later");\n}',
        'fn f() -> i32 {\n    panic!("not implemented")\n}',
        "fn f() -> Vec<i32> {\n    // TODO\n    Vec::new()\n}",
        "fn f() -> String {\n    // TODO\n    String::new()\n}",
    ],
}

NOT_STUBS = {
    "python": ["def f(x):\n    return 0", "def f(x):\n    # note\n    return None", "def f(x):\n    x += 1\n    pass"],
    "java": ["int f() {\n    return 0;\n}", 'int f() {\n    throw new IllegalStateException("bad input");\n}'],
    "cpp": ["int f() {\n    return 1;\n}", "int f() {\n    // done\n    return 0;\n}"],
    "go": ["func F() int {\n\treturn 1\n}", 'func F() int {\n\tpanic("negative input")\n}'],
    "rust": ["fn f() -> i32 {\n    1\n}", "fn f() -> i32 {\n    // done\n    0\n}"],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_is_stub_recognises_every_stub_form(language):
    for code in STUBS[language]:
        assert is_stub(find_function(code + "\n", language, line=0), language), code
    for code in NOT_STUBS[language]:
        assert not is_stub(find_function(code + "\n", language, line=0), language), code


def test_is_stub_reads_methods_at_their_indentation():
    source = "class A:\n    def f(self):\n        '''Doc.'''\n        pass\n\n    def g(self):\n        return 1\n"
    assert is_stub(find_function(source, "python", name="f"), "python")
    assert not is_stub(find_function(source, "python", name="g"), "python")
    rust = "impl A {\n    fn f(&self) -> u8 {\n        unimplemented!()\n    }\n}\n"
    assert is_stub(find_function(rust, "rust", name="f"), "rust")


# -- property: generated files and answers -------------------------------------------------------------------

HELPER_NAMES = ("alpha", "beta", "gamma", "delta")


class Dialect:
    """How to write the generated programs of one language."""

    def __init__(self, language, comment, imports, containers, function, stub, main, wrapper=None, target=None):
        self.language = language
        self.comment = comment
        self.imports = imports
        self.containers = containers  # (opening, closing, indent) or None for the top level
        self.function = function  # (name, value, method) -> a function at column 0 returning x + value
        self.stub = stub  # (name, method) -> the target with an unwritten body
        self.main = main
        self.wrapper = wrapper  # how answers may wrap their functions (Java's class)
        self.target = target or function  # the answer's target: in Go it must use the imports to keep them


def _python_function(name, value, method):
    return f"def {name}({'self, ' if method else ''}x):\n    return x + {value}"


def _braced(head, statement):
    return lambda name, value, method: f"{head.format(name=name)} {{\n    {statement.format(value=value)}\n}}"


DIALECTS = {
    "python": Dialect(
        "python",
        "#",
        ("import os", "import sys", "from math import sqrt", "from typing import List"),
        (None, ("class Box:", None, "    ")),
        _python_function,
        lambda name, method: f"def {name}({'self, ' if method else ''}x):\n    pass",
        'if __name__ == "__main__":\n    print(target(1))',
    ),
    "java": Dialect(
        "java",
        "//",
        ("import java.util.*;", "import java.util.List;", "import java.util.stream.Collectors;", "import java.io.*;"),
        (("class Solution {", "}", "    "),),
        _braced("int {name}(int x)", "return x + {value};"),
        lambda name, method: f"int {name}(int x) {{\n}}",
        "public static void main(String[] args) {\n    System.out.println(1);\n}",
        wrapper=("public class Solution {", "}", "    "),
    ),
    "cpp": Dialect(
        "cpp",
        "//",
        ("#include <vector>", "#include <string>", "#include <algorithm>", "using namespace std;"),
        (None, ("namespace ns {", "}", "    ")),
        _braced("int {name}(int x)", "return x + {value};"),
        lambda name, method: f"int {name}(int x) {{\n    // TODO\n}}",
        "int main() {\n    return 0;\n}",
    ),
    "go": Dialect(
        "go",
        "//",
        ("fmt", "strings", "sort", "math"),
        (None,),
        _braced("func {name}(x int) int", "return x + {value}"),
        lambda name, method: f'func {name}(x int) int {{\n    panic("TODO")\n}}',
        "func main() {\n}",
        target=_braced(
            "func {name}(x int) int",
            'return x + {value} + len(fmt.Sprint(strings.TrimSpace(""), sort.IsSorted(nil), math.Pi))',
        ),
    ),
    "rust": Dialect(
        "rust",
        "//",
        (
            "use std::collections::HashMap;",
            "use std::collections::HashSet;",
            "use std::fmt::Write;",
            "use std::cmp::max;",
        ),
        (None, ("impl Thing {", "}", "    ")),
        _braced("fn {name}(x: i32) -> i32", "x + {value}"),
        lambda name, method: f"fn {name}(x: i32) -> i32 {{\n    todo!()\n}}",
        "fn main() {\n}",
    ),
}


def _indented(text: str, indent: str) -> str:
    """Lines after the first moved right by `indent` (the first follows whatever precedes it)."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(indent + line if line else line for line in rest)])


def _render_imports(dialect: Dialect, chosen: list[str], grouped: bool) -> list[str]:
    if not chosen:
        return []
    if dialect.language == "go":
        specs = [f'"{name}"' for name in chosen]
        return (
            ["import (\n" + "".join(f"\t{spec}\n" for spec in specs) + ")"]
            if grouped
            else [f"import {s}" for s in specs]
        )
    collections = [line for line in chosen if line.startswith("use std::collections::")]
    if dialect.language == "rust" and grouped and len(collections) == 2:
        rest = [line for line in chosen if line not in collections]
        return ["use std::collections::{HashMap, HashSet};", *rest]
    return list(chosen)


def _allowed_import_lines(dialect: Dialect, new: list[str]) -> set[str]:
    if dialect.language == "go":
        return {"import (", ")"} | {f'"{name}"' for name in new} | {f'import "{name}"' for name in new}
    allowed = set(new)
    if dialect.language == "rust" and {line for line in new if "collections" in line}:
        allowed.add("use std::collections::{HashMap, HashSet};")
    return allowed


@st.composite
def scenarios(draw, dialect: Dialect):
    """(file, answer, expected file without insertions, lines the splicer may insert)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    container = draw(st.sampled_from(dialect.containers))
    indent = container[2] if container else ""
    method = dialect.language == "python" and container is not None
    others = draw(st.lists(st.sampled_from(HELPER_NAMES), unique=True, max_size=3))
    before = draw(st.integers(0, len(others)))
    file_imports = draw(st.lists(st.sampled_from(dialect.imports), unique=True, max_size=3))
    values = iter(range(1000))

    def spacing():
        return "\n" * draw(st.integers(1, 3))

    def comment():
        return f"{dialect.comment} note {next(values)}\n" if draw(st.booleans()) else ""

    # The file: optional package, imports, then items (in a container or not) around the target.
    head = "package main\n\n" if dialect.language == "go" and draw(st.booleans()) else ""
    head += "".join(line + "\n" for line in _render_imports(dialect, file_imports, draw(st.booleans())))
    items = [dialect.function(name, next(values), method) for name in others]
    prefix = head + ("\n" if head else "") + (container[0] + "\n" if container else "")
    for item in items[:before]:
        prefix += comment() + indent + _indented(item, indent) + spacing()
    prefix += comment() + indent
    stub = _indented(dialect.stub("target", method), indent)
    suffix = "".join(spacing() + comment() + indent + _indented(item, indent) for item in items[before:]) + "\n"
    suffix += container[1] + "\n" if container and container[1] else ""
    file = prefix + stub + suffix

    # The answer: imports, helpers (some the file has) and the target in any order, maybe a main.
    answer_imports = draw(st.lists(st.sampled_from(dialect.imports), unique=True, max_size=3))
    helpers = draw(st.lists(st.sampled_from(HELPER_NAMES), unique=True, max_size=3))
    target = dialect.target("target", 500 + next(values), method)
    signature, body_lines = target.split("\n", 1)
    extra = draw(st.lists(st.sampled_from(["", f"    {dialect.comment} step", f"    {dialect.comment} TODO no more"])))
    target = "\n".join([signature, *extra, body_lines])  # a body of random length, blank lines included
    helper_code = {name: dialect.function(name, 100 + next(values), False) for name in helpers}
    pieces = draw(st.permutations([*helper_code.values(), target]))
    if draw(st.booleans()):
        pieces.append(dialect.main)
    if dialect.wrapper is not None and draw(st.booleans()):
        opening, closing, inner = dialect.wrapper
        code = opening + "\n" + "\n\n".join(inner + _indented(piece, inner) for piece in pieces) + "\n" + closing
    else:
        code = "\n\n".join(pieces)
    if dialect.language == "go" and draw(st.booleans()):
        code = "package main\n\n" + code
    answer_head = "\n".join(_render_imports(dialect, answer_imports, draw(st.booleans())))
    answer = (answer_head + "\n\n" + code if answer_head else code) + "\n"
    if draw(st.booleans()):
        answer = answer.replace("\n", "\r\n")

    # What must come out: the file with the target replaced, plus only new helpers, imports and blank lines.
    expected = prefix + _indented(target, indent) + suffix
    allowed = {line.strip() for name, code in helper_code.items() if name not in others for line in code.split("\n")}
    new_imports = [line for line in answer_imports if line not in file_imports]
    allowed |= _allowed_import_lines(dialect, new_imports) | {""}
    return file.replace("\n", newline), answer, expected.replace("\n", newline), allowed, newline


def _is_expected_plus_allowed(result: str, expected: str, allowed: set[str]) -> bool:
    """Whether `result` is `expected` with whole lines inserted, each of them allowed."""
    wanted = expected.splitlines(keepends=True)
    n = 0
    for line in result.splitlines(keepends=True):
        if n < len(wanted) and line == wanted[n]:
            n += 1
        elif line.strip() not in allowed:
            return False
    return n == len(wanted)


def _imports_once(result: str, dialect: Dialect) -> bool:
    lines = [line.strip() for line in result.splitlines()]
    if dialect.language == "go":
        return all(sum(line in (f'"{n}"', f'import "{n}"') for line in lines) <= 1 for n in dialect.imports)
    if dialect.language == "rust":
        uses = [line for line in lines if line.startswith("use ")]
        return all(sum(name in line for line in uses) <= 1 for name in ("HashMap", "HashSet", "Write", "max"))
    return all(lines.count(line) <= 1 for line in dialect.imports)


@pytest.mark.parametrize("language", LANGUAGES)
def test_splice_property_changes_only_the_function_and_adds_only_new_lines(language):
    dialect = DIALECTS[language]

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(scenarios(dialect))
    def check(scenario):
        file, answer, expected, allowed, newline = scenario
        result = splice(file, language, "target", answer)
        assert not errors(result, language), result
        assert _is_expected_plus_allowed(result, expected, allowed), (result, expected)
        assert _imports_once(result, dialect), result
        if newline == "\r\n":
            assert result.count("\n") == result.count("\r\n"), result

    check()
