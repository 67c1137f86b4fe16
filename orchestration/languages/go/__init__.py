"""Go: benchmark programs and workspace modules both run as `go test` binaries, so they share how a
failure and an out-of-memory crash read."""

from __future__ import annotations

import re

from ..base import LanguageSpec

# Where a failing `go test` binary's useful output starts: a failed test, a panic, a runtime fatal error.
FAILURE_START = re.compile(r"^--- FAIL|^panic:|^fatal error:", re.MULTILINE)

SPEC = LanguageSpec(
    package=__name__,
    name="go",
    display_name="Go",
    aliases=("golang",),
    suffixes=(".go",),
    fence_tags=frozenset({"go", "golang"}),
    out_of_memory=("out of memory",),  # "fatal error: runtime: out of memory"
    stub_closer="}\n",
    build_only_test="func TestBuilds(t *testing.T) {}\n",
    doc_comment_openers=("//", "/*", "*/", "*"),
    doc_comment_closers=("*/",),
    copied_files=frozenset({"go.mod", "go.sum", "go.work", "go.work.sum"}),
    effibench_key="golang",
)
