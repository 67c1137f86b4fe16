"""C++: benchmark programs built by g++ with a precompiled prelude; workspaces are CMake projects with
GoogleTest, or folders of GoogleTest files."""

from __future__ import annotations

from ..base import LanguageSpec

SPEC = LanguageSpec(
    package=__name__,
    name="cpp",
    display_name="C++",
    aliases=("c++", "cxx"),
    suffixes=(".cpp", ".cc", ".cxx", ".h", ".hpp", ".hh"),
    fence_tags=frozenset({"cpp", "c++", "cc", "cxx", "hpp", "c", "h"}),
    out_of_memory=("std::bad_alloc",),
    stub_closer="}\n",
    build_only_test="int main() { return 0; }\n",
    doc_comment_openers=("/**", "/*", "*/", "*", "///", "//"),
    doc_comment_closers=("*/",),
    build_dir_markers=("CMakeCache.txt",),
)
