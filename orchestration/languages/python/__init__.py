"""Python: benchmark programs run by the interpreter; workspaces tested by pytest."""

from __future__ import annotations

from ..base import LanguageSpec

SPEC = LanguageSpec(
    package=__name__,
    name="python",
    display_name="Python",
    aliases=("py",),
    suffixes=(".py", ".pyi"),
    fence_tags=frozenset({"python", "py", "python3", "py3"}),
    out_of_memory=("MemoryError",),
    stub_closer="",
    build_only_test="",
    doc_comment_openers=("#", '"""', "'''", 'r"""'),
    doc_comment_closers=('"""', "'''"),
    skipped_dirs=frozenset(
        {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".venv", "venv"}
    ),
    effibench_key="python3",
)
