"""Rust: benchmark programs built by rustc against prebuilt crates; workspaces are cargo crates. Both run
libtest binaries, so they share how a failure and an out-of-memory abort read."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..base import LanguageSpec

# Where a failing libtest run's useful output starts: the failed test's captured output, or the panic.
FAILURE_START = re.compile(r"^---- .* stdout ----$|panicked at", re.MULTILINE)


def _humaneval_head(row: Mapping[str, str]) -> str:
    """HumanEval-X Rust keeps `use` lines and the signature in `declaration`, the doc comment in `prompt`."""
    if "fn " in row["prompt"].replace("fn main()", ""):
        return ""
    return "fn main(){}\n" + row["declaration"]


SPEC = LanguageSpec(
    package=__name__,
    name="rust",
    display_name="Rust",
    aliases=("rs",),
    suffixes=(".rs",),
    fence_tags=frozenset({"rust", "rs"}),
    out_of_memory=("memory allocation of",),  # "memory allocation of N bytes failed"
    stub_closer="}\n",
    build_only_test="#[cfg(test)]\nmod perforch_build_only {\n    #[test]\n    fn builds() {}\n}\n",
    prompt_head=_humaneval_head,
    doc_comment_openers=("///", "//!", "//", "/**", "/*", "*/", "*"),
    doc_comment_closers=("*/",),
    copied_files=frozenset({"Cargo.lock"}),
    build_outputs={"target": ("Cargo.toml",)},
    effibench_runners=False,  # upstream lacks Rust: its effibench.py assembles io programs only
)
