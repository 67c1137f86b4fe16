"""The registry of languages: one table, lookups by name, alias and suffix, and every language package
complete (its syntax, benchmark toolchain and workspace project load and name the same language)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from perforch.orchestration.checking import get_toolchain
from perforch.orchestration.checking.toolchain import Toolchain
from perforch.orchestration.languages import (
    LANGUAGES,
    SPECS,
    UnsupportedLanguage,
    check_language,
    described,
    language_of_path,
    spec_for_suffix,
)
from perforch.orchestration.stubs.syntax import syntax_for
from perforch.orchestration.workspace.project import ProjectLanguage

ENGINE = Path(__file__).resolve().parents[1] / "orchestration"


def test_the_table_lists_the_five_languages_in_their_order() -> None:
    assert LANGUAGES == ("python", "java", "cpp", "go", "rust")


@pytest.mark.parametrize(
    ("written", "name"),
    [("C++", "cpp"), (" cxx ", "cpp"), ("golang", "go"), ("Py", "python"), ("rs", "rust"), ("Java", "java")],
)
def test_names_and_aliases_normalise(written: str, name: str) -> None:
    assert check_language(written) == name


def test_an_unknown_language_names_the_supported_ones() -> None:
    with pytest.raises(UnsupportedLanguage, match="python, java, cpp, go, rust"):
        check_language("cobol")


@pytest.mark.parametrize(
    ("path", "name"),
    [("a/b.py", "python"), ("stub.pyi", "python"), ("A.java", "java"), ("x.HH", "cpp"), ("m.go", "go")],
)
def test_a_path_has_its_language_from_its_suffix(path: str, name: str) -> None:
    assert language_of_path(path) == name


def test_a_path_without_a_known_suffix_is_unsupported() -> None:
    with pytest.raises(UnsupportedLanguage):
        language_of_path("notes.txt")
    assert spec_for_suffix(".txt") is None


def test_no_suffix_and_no_alias_belongs_to_two_languages() -> None:
    suffixes = [suffix for spec in SPECS.values() for suffix in spec.suffixes]
    aliases = [alias for spec in SPECS.values() for alias in (spec.name, *spec.aliases)]
    assert len(suffixes) == len(set(suffixes)) and len(aliases) == len(set(aliases))


def test_the_message_of_supported_files_lists_every_suffix() -> None:
    message = described()
    for spec in SPECS.values():
        assert all(suffix in message for suffix in spec.suffixes), spec.name
    assert ".hh" in message


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_package_is_complete(language: str) -> None:
    spec = SPECS[language]
    assert syntax_for(language).language == language and syntax_for(language).fence_tags == spec.fence_tags
    toolchain, project = spec.toolchain(), spec.project()
    assert issubclass(toolchain, Toolchain) and toolchain.spec is spec
    assert issubclass(project, ProjectLanguage) and project.spec is spec
    assert get_toolchain(language).language == language
    assert spec.stub_closer.count("{") <= spec.stub_closer.count("}")


@pytest.mark.parametrize("language", ["go", "rust"])
def test_both_modes_read_a_failure_the_same_way(language: str) -> None:
    """Both run the same test binaries (go test, libtest): one pattern, not two that drift."""
    spec = SPECS[language]
    assert spec.toolchain().failure_start is spec.project().failure_start


@pytest.mark.parametrize("language", LANGUAGES)
def test_both_modes_know_the_runtime_out_of_memory_messages(language: str) -> None:
    spec = SPECS[language]
    assert spec.out_of_memory
    assert set(spec.out_of_memory) <= set(get_toolchain(language).out_of_memory_messages)


def test_only_the_language_packages_import_a_language_package() -> None:
    """Everything else goes through the registry, so that adding a language edits no other module."""
    offenders = []
    for path in ENGINE.rglob("*.py"):
        relative = path.relative_to(ENGINE)
        if relative.parts[0] == "languages":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if "languages" in parts and parts[-1] != "languages":
                    offenders.append(f"{relative}: from {'.' * node.level}{node.module}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and ".languages." in node.value:
                offenders.append(f"{relative}: {node.value!r}")  # a module path to import_module
    assert offenders == []
