"""Agents' prompts and parsers (no model needed: these are pure functions)."""

import pytest
from perforch.orchestration.agents import categorize, debug, generate, refine


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("string", "string"),
        ("  Dynamic Programming. ", "dynamic_programming"),
        ("**graph**", "graph"),
        ("DP", "dynamic_programming"),
        ("The category is: sorting_searching", "sorting_searching"),
        ("dynamic_programing", "dynamic_programming"),
    ],
)
def test_on_vocabulary_answers(answer, expected):
    assert categorize.parse(answer, "") == (expected, True)


def test_off_vocabulary_answer_falls_back_to_keywords_deterministically():
    text = "Return true if the string is a palindrome; count vowels in each word."
    first = categorize.parse("I cannot decide, sorry", text)
    assert first == ("string", False)
    assert categorize.parse("no idea", text) == first
    assert categorize.parse("???", "") == ("array", False)


def test_prompts_ask_for_one_fenced_complete_function():
    for messages in (
        generate.build_messages("rust", "fn f() {}", "f"),
        debug.build_messages("rust", "fn f() {}", "f", "fn f() { x }", "error[E0425]", ""),
        refine.build_messages("rust", "fn f() {}", "f", "fn f() {}", refine.speed_note(0.012)),
    ):
        assert "one fenced code block" in messages[0]["content"]
        assert "```rust" in messages[1]["content"]
    assert "12.0 ms" in refine.build_messages("go", "", "F", "", refine.speed_note(0.012))[1]["content"]


def test_debug_prompt_trims_long_failures_and_shows_visible_tests_only():
    text = debug.build_messages("python", "src", "f", "code", "E" * 10_000, "assert f() == 1")[1]["content"]
    assert "characters cut" in text
    assert "assert f() == 1" in text
    assert len(text) < 3_000
