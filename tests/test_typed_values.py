"""Typed values without a toolchain: the value stream codec, every HumanEvalPack declaration of ENAMEL's
142 problems parsed in Java, C++, Go and Rust, literals, and the Python example asserts read back."""

from __future__ import annotations

import gzip
import json

import pytest
from humaneval_models import BENCHMARK
from perforch.orchestration.benchmark import load_benchmark
from perforch.orchestration.efficiency.values import (
    Any,
    Bool,
    Char,
    Float,
    Int,
    List,
    Map,
    Optional,
    Str,
    Tuple,
    Unrenderable,
    decode_results,
    encode_cases,
    encode_value,
    shaped_like,
)
from perforch.orchestration.languages import language_spec
from perforch.orchestration.visible_examples import python_examples

TYPED = ("java", "cpp", "go", "rust")
ENAMEL_LEFT_OUT = {2, 23, 41, 45, 53, 60, 71, 92, 97, 99, 102, 123, 124, 135, 137, 138, 144, 148, 156, 157, 159, 160}


def rows(language: str) -> list[dict]:
    with gzip.open(BENCHMARK / f"{language}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (List(Map(Str(), Int(64))), [{"a b": 1, "": -(2**63)}, {}]),
        (Tuple((Optional(Str()), Float(), Bool())), ("x:y\n z", float("inf"), True)),
        (List(List(Char())), [["é", "a"], []]),
        (Any(), [1, "two", 3.5, None, [True], {"k": (1, 2)}, {4, 5}]),
    ],
)
def test_values_survive_the_stream(kind, value):
    data = encode_value(kind, value) + b" " + encode_value(kind, value)
    decoded = decode_results(kind, data, 2)
    assert decoded[0] == decoded[1] == shaped_like(decoded[0], value)
    assert shaped_like(decoded[0], value) == value


def test_an_input_file_counts_its_cases_and_strings_are_byte_counted():
    data = encode_cases((Str(), Int()), [("héllo", 3), ("", -1)])
    assert data == "2\n6:héllo\n3\n0:\n-1\n".encode()


def test_a_value_that_does_not_fit_says_why():
    with pytest.raises(Unrenderable, match="does not fit a signed 32-bit"):
        encode_value(List(Int(32)), [1, 2**31])
    with pytest.raises(Unrenderable, match="is not a str"):
        encode_value(Map(Str(), Str()), {1: "a"})
    assert encode_value(Int(), 2.0) == b"2"  # Python's integral float where the language declares an int


@pytest.mark.parametrize("language", TYPED)
def test_at_least_130_of_enamels_142_declarations_render(language):
    values = language_spec(language).values()
    rendered, reasons = 0, {}
    for number, row in enumerate(rows(language)):
        if number in ENAMEL_LEFT_OUT:
            continue
        try:
            values.harness_source(values.parse_signature(row["signature"]), "")
            rendered += 1
        except Unrenderable as exc:
            reasons[row["task_id"]] = str(exc)
    print(language, rendered, reasons)
    assert rendered >= 130
    assert all(reasons.values())


def test_declarations_become_the_types_they_declare():
    rust = language_spec("rust").values().parse_signature("sum_product(numbers:Vec<i32>) -> (i32,i32)")
    assert rust.param_types == (List(Int(32)),) and rust.returns == Tuple((Int(32), Int(32)))
    go = language_spec("go").values().parse_signature("func GetRow(lst [][]int, x int) [][2]int")
    assert go.param_types == (List(List(Int(64))), Int(64)) and go.returns == List(Tuple((Int(64), Int(64))))
    java = language_spec("java").values().parse_signature("public List<Optional<Integer>> f(Map<String, Long> m)")
    assert java.param_types == (Map(Str(), Int(64)),) and java.returns == List(Optional(Int(32)))
    cpp = language_spec("cpp").values().parse_signature("vector<int> filter_integers(list_any values)")
    assert cpp.param_types == (List(Any()),)
    with pytest.raises(Unrenderable, match="no value rendering"):
        language_spec("rust").values().parse_signature("f(a: &dyn Any) -> RtnType<String,f64,i32>")


@pytest.mark.parametrize(
    ("language", "text", "value", "literal"),
    [
        ("rust", "Vec<&str>", ['a"b', "é"], 'vec!["a\\"b", "\\u{e9}"]'),
        ("rust", "Option<String>", None, "None"),
        ("go", "map[rune]int", {"a": 1}, "map[rune]int{'a': 1}"),
        ("java", "List<Double>", [1, 2.5], "new ArrayList<Double>(Arrays.<Double>asList(1.0, 2.5))"),
        ("cpp", "vector<float>", [0.5], "vector<float>{0.5f}"),
        ("cpp", "long long", 5, "5LL"),
    ],
)
def test_literals_have_the_declared_type(language, text, value, literal):
    assert language_spec(language).values().literal(text, value) == literal


def test_python_example_asserts_read_back_as_arguments_and_results():
    test = (
        "def check(f):\n    assert f([1, 2], 'a') == (3, None)\n    assert not f([], '')\n"
        "    assert tuple(f([5], 'b')) == tuple([5])\n    assert abs(f([1], 'c') - 0.5) < 1e-6\n"
        "    assert f(*[1]) == 2\ncheck(f)\n"
    )
    assert python_examples(test) == [
        (([1, 2], "a"), (3, None)),
        (([], ""), False),
        (([5], "b"), [5]),
        (([1], "c"), 0.5),
    ]


def test_every_rust_problem_with_python_examples_gets_a_visible_test():
    problems = load_benchmark(BENCHMARK, ["rust"])
    substitutes = {p.task_id: p.substitute_reason for p in problems if p.visible_is_substitute}
    print(substitutes)
    assert len(substitutes) <= 12  # no Python example (7), a type that does not render (2), disagreement (3)
    assert all(substitutes.values())
    generated = next(p for p in problems if p.task_id == "Rust/0")
    assert "#[test]" in generated.visible_test and "has_close_elements(vec![" in generated.visible_test


@pytest.mark.parametrize("language", TYPED)
def test_the_candidates_own_declaration_gives_the_same_types_as_the_dataset(language):
    from perforch.orchestration.efficiency.typed_harness import signature_in

    values = language_spec(language).values()
    for row, problem in list(zip(rows(language), load_benchmark(BENCHMARK, [language]), strict=True))[:40]:
        declared = signature_in(language, problem.reference_source, problem.entry_point)
        dataset = values.parse_signature(row["signature"])
        assert (declared.param_types, declared.returns) == (dataset.param_types, dataset.returns), row["task_id"]
    with pytest.raises(Unrenderable, match="no function"):
        signature_in(language, problem.reference_source, "perforch_missing")
