"""The splice keeps the user's signature: modifiers, annotations, attributes and doc comments the answer drops
are put back; an answer that renames the function or changes its parameters is refused with the reason."""

from __future__ import annotations

import pytest
from perforch.orchestration.stubs import SpliceError, splice

# language: (file, function, the answer without the file's modifiers, the function's header expected after)
DROPPED = {
    "rust": (
        "/// The mean of the values.\n#[inline]\npub fn mean(values: &[f64]) -> f64 {\n    todo!()\n}\n",
        "mean",
        "fn mean(values: &[f64]) -> f64 {\n    values.iter().sum::<f64>() / values.len() as f64\n}\n",
        "/// The mean of the values.\n#[inline]\npub fn mean(values: &[f64]) -> f64 {\n    values.iter()",
    ),
    "java": (
        "class Stats {\n    /** The mean. */\n    @Deprecated\n    public static int mean(int a, int b) {\n"
        "        return 0;\n    }\n}\n",
        "mean",
        "int mean(int a, int b) {\n    return (a + b) / 2;\n}\n",
        "    /** The mean. */\n    @Deprecated\n    public static int mean(int a, int b) {\n"
        "        return (a + b) / 2;",
    ),
    "cpp": (
        "namespace stats {\n// The mean.\n[[nodiscard]]\nstatic inline int mean(int a, int b) {\n    return 0;\n}\n}\n",
        "mean",
        "int mean(int a, int b) {\n    return (a + b) / 2;\n}\n",
        "// The mean.\n[[nodiscard]]\nstatic inline int mean(int a, int b) {\n    return (a + b) / 2;",
    ),
    "python": (
        '@cache\nasync def mean(a, b):\n    """The mean."""\n    pass\n',
        "mean",
        "def mean(a, b):\n    return (a + b) / 2\n",
        '@cache\nasync def mean(a, b):\n    """The mean."""\n    return (a + b) / 2',
    ),
    "go": (
        "package stats\n\n// Mean is the mean.\nfunc Mean(a, b int) int {\n\treturn 0\n}\n",
        "Mean",
        "func Mean(a int, b int) int {\n\treturn (a + b) / 2\n}\n",
        "// Mean is the mean.\nfunc Mean(a int, b int) int {\n\treturn (a + b) / 2",
    ),
}

RUST_STUB = "pub fn f(a: u32) -> u32 {\n    todo!()\n}\n"


@pytest.mark.parametrize("language", list(DROPPED))
def test_what_the_answer_drops_from_the_signature_is_kept(language):
    source, name, answer, expected = DROPPED[language]
    assert expected in splice(source, language, name, answer)


@pytest.mark.parametrize(
    ("language", "source", "answer", "header"),
    [
        # The file's visibility wins over the answer's.
        (
            "rust",
            "pub fn f(a: u32) -> u32 {\n    todo!()\n}\n",
            "pub(crate) fn f(a: u32) -> u32 {\n    a\n}\n",
            "pub fn f",
        ),
        (
            "java",
            "class A {\n    public static int f(int a) {\n        return 0;\n    }\n}\n",
            "private static int f(int a) {\n    return a;\n}\n",
            "    public static int f(int a) {",
        ),
        # Modifiers the answer adds stay, in the language's order.
        (
            "rust",
            "pub fn f(a: u32) -> u32 {\n    todo!()\n}\n",
            "const fn f(a: u32) -> u32 {\n    a\n}\n",
            "pub const fn f",
        ),
        # Missing modifiers go together, before the ones the answer has.
        (
            "java",
            "class A {\n    public static final int f(int a) {\n        return 0;\n    }\n}\n",
            "final int f(int a) {\n    return a;\n}\n",
            "    public static final int f(int a) {",
        ),
    ],
)
def test_modifiers_merge_with_the_answers(language, source, answer, header):
    assert header in splice(source, language, "f", answer)


def test_an_answer_with_the_whole_signature_is_spliced_as_written():
    source = "pub fn f(a: u32) -> u32 {\n    todo!()\n}\n"
    assert splice(source, "rust", "f", "pub fn f(a: u32) -> u32 {\n    a + 1\n}\n") == (
        "pub fn f(a: u32) -> u32 {\n    a + 1\n}\n"
    )


@pytest.mark.parametrize(
    ("language", "source", "answer", "reason"),
    [
        (
            "rust",
            "pub fn mean(a: u32, b: u32) -> u32 {\n    todo!()\n}\n",
            "pub fn average(a: u32, b: u32) -> u32 {\n    (a + b) / 2\n}\n",
            "no function `mean` (it defines `average`)",
        ),
        (
            "go",
            "package p\n\nfunc Mean(a, b int) int {\n\treturn 0\n}\n",
            "func Mean(values []int) int {\n\treturn 0\n}\n",
            "changes the parameters of `Mean` from `(a, b int)` (2) to `(values []int)` (1)",
        ),
        (
            "python",
            "def mean(a, b):\n    pass\n",
            "def mean(values):\n    return sum(values) / len(values)\n",
            "changes the parameters of `mean` from `(a, b)` (2) to `(values)` (1)",
        ),
    ],
)
def test_a_renamed_function_or_other_parameters_are_refused_with_the_signature_to_keep(
    language, source, answer, reason
):
    name = "Mean" if language == "go" else "mean"
    with pytest.raises(SpliceError) as refused:
        splice(source, language, name, answer)
    message = str(refused.value)
    assert reason in message
    assert "the file declares" in message and name in message.split("the file declares")[1]
