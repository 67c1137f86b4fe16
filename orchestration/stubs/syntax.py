"""What differs between the languages for the splicer, as data: tree-sitter node types, name fields, stub
patterns. Each language's entry is its `languages/<name>/syntax.py`.

Every other module of the splicer is written once for all languages and reads this table; adding a
language means adding one `Syntax` entry to its package, not new branches elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from tree_sitter import Language

from ..languages import SPECS, language_spec

if TYPE_CHECKING:
    from ..languages import LanguageSpec

# A comment that says the body is still to be written.
TODO_COMMENT = re.compile(r"\b(TODO|FIXME)\b|not (yet )?implemented|implement me", re.IGNORECASE)
# A string literal that says so (the message of a `throw`, a `panic`).
NOT_DONE_STRING = r'"[^"]*(?i:todo|fixme|not (?:yet )?implemented|unimplemented)[^"]*"'


@dataclass(frozen=True)
class Syntax:
    """One language's tree-sitter vocabulary and conventions."""

    spec: LanguageSpec  # names and fence tags
    grammar: Language
    functions: frozenset[str]  # definitions with a body: what find_function reports and splice replaces
    containers: Mapping[str, str]  # scope-opening node type -> the field that names it (class, impl, namespace)
    namespaces: frozenset[str]  # containers whose members are free functions (C++ namespace, Rust mod)
    receiver_field: str | None  # Go methods live at the top level and name their type in a receiver
    definitions: frozenset[str]  # answer items worth keeping when the file lacks them: functions, types
    data: frozenset[str]  # answer items kept only when the kept code uses them: constants, fields, globals
    imports: frozenset[str]
    first_imports: frozenset[str]  # imports that must precede all others (Python's __future__)
    import_style: str  # "statement" | "go_specs" | "rust_paths": how two imports count as the same
    headers: frozenset[str]  # items that must stay above the imports: package clause, inner attributes
    header_comment: re.Pattern[str] | None  # comments that must stay first: shebang, inner doc comments
    comments: frozenset[str]
    attributes: frozenset[str]  # sibling items that belong to the next item (Rust #[...])
    decorations: frozenset[str]  # parents that put a prefix on a definition (decorators, template<...>)
    doc_comment: re.Pattern[str]  # which comments right above a function document it
    docstring: tuple[str, str] | None  # (statement, string) types of a body's leading docstring (Python)
    statement_groups: frozenset[str]  # nodes that merely group a body's statements (Go's statement_list)
    strings: frozenset[str]  # literals whose continuation lines must keep their indentation
    name_carriers: frozenset[str]  # children that hold the name of an item without a name field
    named_by_fields: Mapping[str, tuple[str, ...]]  # items named by a combination of fields (Rust impls)
    method_marker: re.Pattern[str] | None  # a bare function with this header belongs in the class
    overloads: bool  # a second function of the same name is an overload, not a redefinition
    class_wrapper: tuple[str, str] | None  # how to wrap bare methods so that they parse as members
    stub_statements: tuple[re.Pattern[str], ...]  # a lone statement that marks an unwritten body
    zero_return: re.Pattern[str]  # a lone return that, with a TODO comment, marks an unwritten body
    blank_lines_between_items: int = 1  # at the top level; one blank line inside classes
    # A function's children before its name that the user's signature keeps when an answer drops them:
    # visibility, storage, annotations, attributes. A group's own children are the modifiers (Java's
    # `modifiers`, Rust's `function_modifiers`); `visibility` matches the modifiers of which one is allowed.
    modifiers: frozenset[str] = frozenset()
    modifier_groups: frozenset[str] = frozenset()
    visibility: re.Pattern[str] | None = None
    # Whether an ERROR node in a file means broken code; where macros fool the grammar (C++), only a missing
    # token does.
    trusts_error_nodes: bool = True
    compiles_in_process: bool = False  # the running interpreter can check the file's syntax itself (Python)

    @property
    def language(self) -> str:
        return self.spec.name

    @property
    def display_name(self) -> str:
        return self.spec.display_name

    @property
    def fence_tags(self) -> frozenset[str]:
        return self.spec.fence_tags


def stub_patterns(*sources: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(source, re.DOTALL) for source in sources)


@cache
def syntax_for(language: str) -> Syntax:
    """The entry of a language name as users write it ("C++", "golang"); UnsupportedLanguage otherwise."""
    return language_spec(language).syntax


def all_syntaxes() -> tuple[Syntax, ...]:
    """Every language's entry (loads every grammar)."""
    return tuple(spec.syntax for spec in SPECS.values())
