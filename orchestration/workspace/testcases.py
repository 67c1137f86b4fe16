"""The workspace's tests that exercise a function: those whose body names it.

A test file that names the function (an import, an alias, a fixture) but none of whose tests does
is taken whole: its tests may still reach the function through the alias. Not so the edited file
itself (Rust keeps unit tests beside the code): there the name is the function's own definition.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..stubs.trees import parse
from .project import ProjectLanguage, TestCase
from .shadow import source_files

_LARGEST_TEST_FILE = 2 * 1024 * 1024


def tests_mentioning(root: Path, language: ProjectLanguage, function: str) -> list[TestCase]:
    mention = re.compile(rf"\b{re.escape(function)}\b")
    selected: list[TestCase] = []
    for relative in sorted(source_files(root)):
        if not relative.endswith(language.spec.suffixes):
            continue
        text = _read(root / relative)
        if text is None or not mention.search(text) or not language.is_test_file(relative, text):
            continue
        cases = language.test_cases(parse(language.spec.syntax, text), relative)
        named = [case for case, body in cases if mention.search(body)]
        selected += named or ([] if relative == language.site.file else [case for case, _ in cases])
    return list(dict.fromkeys(selected))


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > _LARGEST_TEST_FILE:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
