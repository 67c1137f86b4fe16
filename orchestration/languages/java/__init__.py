"""Java: benchmark programs compiled by a warm javac server; workspaces are Maven projects with JUnit."""

from __future__ import annotations

from ..base import LanguageSpec

SPEC = LanguageSpec(
    package=__name__,
    name="java",
    display_name="Java",
    aliases=(),
    suffixes=(".java",),
    fence_tags=frozenset({"java"}),
    out_of_memory=("java.lang.OutOfMemoryError", "insufficient memory for the Java Runtime"),
    stub_closer="    }\n}\n",
    build_only_test="public class Main {\n    public static void main(String[] args) {}\n}\n",
    doc_comment_openers=("/**", "/*", "*/", "*", "//"),
    doc_comment_closers=("*/",),
    skipped_dirs=frozenset({".gradle"}),
    build_outputs={"target": ("pom.xml",)},
    # The JVM's tiered JIT reaches its optimizing compiler only after many calls or loop iterations, and
    # with the callers' one warm-up its timed calls straddled the switch (benchmarks/efficiency_noise.py:
    # A/A ratios up to 1.4). The ahead-of-time builds need none.
    jit_warmups=10,
    timing_rounds=15,
)
