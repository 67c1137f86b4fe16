"""What differs between the five languages, as data: tree-sitter node types, name fields, stub patterns.

Every other module of the splicer is written once for all languages and reads this table; adding a
language means adding one `Syntax` entry here, not new branches elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import tree_sitter_cpp
import tree_sitter_go
import tree_sitter_java
import tree_sitter_python
import tree_sitter_rust
from tree_sitter import Language

from ..task import check_language

# A comment that says the body is still to be written.
TODO_COMMENT = re.compile(r"\b(TODO|FIXME)\b|not (yet )?implemented|implement me", re.IGNORECASE)


@dataclass(frozen=True)
class Syntax:
    """One language's tree-sitter vocabulary and conventions."""

    language: str
    display_name: str
    grammar: Language
    fence_tags: frozenset[str]  # markdown info strings that mean this language
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


def _patterns(*sources: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(source, re.DOTALL) for source in sources)


_NOT_DONE = r'"[^"]*(?i:todo|fixme|not (?:yet )?implemented|unimplemented)[^"]*"'

_PYTHON = Syntax(
    language="python",
    display_name="Python",
    grammar=Language(tree_sitter_python.language()),
    fence_tags=frozenset({"python", "py", "python3", "py3"}),
    functions=frozenset({"function_definition"}),
    containers=MappingProxyType({"class_definition": "name"}),
    namespaces=frozenset(),
    receiver_field=None,
    definitions=frozenset({"function_definition", "class_definition", "decorated_definition"}),
    data=frozenset({"expression_statement"}),
    imports=frozenset({"import_statement", "import_from_statement", "future_import_statement"}),
    first_imports=frozenset({"future_import_statement"}),
    import_style="statement",
    headers=frozenset(),
    header_comment=re.compile(r"#!|#.*coding[:=]"),
    comments=frozenset({"comment"}),
    attributes=frozenset(),
    decorations=frozenset({"decorated_definition"}),
    doc_comment=re.compile(r"(?!)"),  # Python documents with docstrings, not comments
    docstring=("expression_statement", "string"),
    statement_groups=frozenset(),
    strings=frozenset({"string", "concatenated_string"}),
    name_carriers=frozenset({"assignment"}),
    named_by_fields=MappingProxyType({}),
    method_marker=re.compile(r"^@(staticmethod|classmethod)\b|\(\s*(self|cls)\b"),
    overloads=False,
    class_wrapper=None,
    stub_statements=_patterns(r"pass", r"\.\.\.", r"raise NotImplementedError(\(.*\))?"),
    zero_return=re.compile(r"return( (None|0|0\.0|False|''|\"\"|\[\]|\{\}|\(\)|(set|dict|list)\(\)))?"),
    blank_lines_between_items=2,
    modifiers=frozenset({"async"}),
    compiles_in_process=True,
)

_JAVA = Syntax(
    language="java",
    display_name="Java",
    grammar=Language(tree_sitter_java.language()),
    fence_tags=frozenset({"java"}),
    functions=frozenset({"method_declaration", "constructor_declaration"}),
    containers=MappingProxyType(
        {
            "class_declaration": "name",
            "interface_declaration": "name",
            "enum_declaration": "name",
            "record_declaration": "name",
        }
    ),
    namespaces=frozenset(),
    receiver_field=None,
    definitions=frozenset(
        {
            "method_declaration",
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
        }
    ),
    data=frozenset({"field_declaration"}),
    imports=frozenset({"import_declaration"}),
    first_imports=frozenset(),
    import_style="statement",
    headers=frozenset({"package_declaration"}),
    header_comment=None,
    comments=frozenset({"line_comment", "block_comment"}),
    attributes=frozenset(),
    decorations=frozenset(),
    doc_comment=re.compile(r"/\*\*"),
    docstring=None,
    statement_groups=frozenset(),
    strings=frozenset({"string_literal"}),
    name_carriers=frozenset(),
    named_by_fields=MappingProxyType({}),
    method_marker=None,
    overloads=True,
    class_wrapper=("class PerfOrchAnswer {", "}"),
    stub_statements=_patterns(
        r"throw new (java\.lang\.)?UnsupportedOperationException\(.*\);",
        rf"throw new [\w.]+\({_NOT_DONE}\);",
    ),
    zero_return=re.compile(
        r"return( (null|0[lLfFdD]?|0\.0[fFdD]?|false|''|\"\"|'\\0'|new [\w.<>, ]+(\(\)|\[0\])"
        r"|Collections\.empty\w*\(\)|(List|Set|Map)\.of\(\)))?;"
    ),
    modifiers=frozenset({"modifiers"}),
    modifier_groups=frozenset({"modifiers"}),
    visibility=re.compile(r"public|protected|private"),
)

_CPP = Syntax(
    language="cpp",
    display_name="C++",
    grammar=Language(tree_sitter_cpp.language()),
    fence_tags=frozenset({"cpp", "c++", "cc", "cxx", "hpp", "c", "h"}),
    functions=frozenset({"function_definition"}),
    containers=MappingProxyType(
        {
            "class_specifier": "name",
            "struct_specifier": "name",
            "union_specifier": "name",
            "namespace_definition": "name",
        }
    ),
    namespaces=frozenset({"namespace_definition"}),
    receiver_field=None,
    definitions=frozenset(
        {
            "function_definition",
            "template_declaration",
            "class_specifier",
            "struct_specifier",
            "union_specifier",
            "enum_specifier",
            "namespace_definition",
            "type_definition",
            "alias_declaration",
        }
    ),
    data=frozenset({"declaration", "field_declaration", "preproc_def", "preproc_function_def"}),
    # Preprocessor lines an answer puts among its includes (`#undef NDEBUG`, `#pragma GCC optimize`) go with them.
    imports=frozenset({"preproc_include", "using_declaration", "preproc_call"}),
    first_imports=frozenset(),
    import_style="statement",
    headers=frozenset(),
    header_comment=None,
    comments=frozenset({"comment"}),
    attributes=frozenset(),
    decorations=frozenset({"template_declaration"}),
    doc_comment=re.compile(r"/\*|//"),
    docstring=None,
    statement_groups=frozenset(),
    strings=frozenset({"raw_string_literal", "string_literal"}),
    name_carriers=frozenset(
        {
            "function_declarator",
            "function_definition",
            "declaration",
            "class_specifier",
            "struct_specifier",
            "union_specifier",
            "enum_specifier",
            "alias_declaration",
            "concept_definition",
        }
    ),
    named_by_fields=MappingProxyType({}),
    method_marker=None,
    overloads=True,
    class_wrapper=None,
    stub_statements=_patterns(rf"throw (std::)?\w+\({_NOT_DONE}\);", r"assert\(false\);"),
    zero_return=re.compile(r"return( (0|0\.0f?|false|nullptr|NULL|\"\"|\{\}|[\w:]+(<.*>)?(\(\)|\{\})))?;"),
    modifiers=frozenset(
        {
            "attribute_declaration",
            "attribute_specifier",
            "storage_class_specifier",  # static, inline, extern
            "virtual",
            "explicit_function_specifier",
        }
    ),
    trusts_error_nodes=False,
)

_GO_ZERO = r"(0|0\.0|\"\"|nil|false|(\[\]|map\[[^\]]*\])?[\w.*\[\]]*\{\})"

_GO = Syntax(
    language="go",
    display_name="Go",
    grammar=Language(tree_sitter_go.language()),
    fence_tags=frozenset({"go", "golang"}),
    functions=frozenset({"function_declaration", "method_declaration"}),
    containers=MappingProxyType({}),
    namespaces=frozenset(),
    receiver_field="receiver",
    definitions=frozenset({"function_declaration", "method_declaration", "type_declaration"}),
    data=frozenset({"const_declaration", "var_declaration"}),
    imports=frozenset({"import_declaration"}),
    first_imports=frozenset(),
    import_style="go_specs",
    headers=frozenset({"package_clause"}),
    header_comment=None,
    comments=frozenset({"comment"}),
    attributes=frozenset(),
    decorations=frozenset(),
    doc_comment=re.compile(r"//|/\*"),
    docstring=None,
    statement_groups=frozenset({"statement_list"}),
    strings=frozenset({"raw_string_literal"}),
    name_carriers=frozenset({"type_spec", "type_alias", "const_spec", "var_spec", "var_spec_list"}),
    named_by_fields=MappingProxyType({}),
    method_marker=None,
    overloads=False,
    class_wrapper=None,
    stub_statements=_patterns(rf"panic\({_NOT_DONE}\)"),
    zero_return=re.compile(rf"return( {_GO_ZERO}(, ?{_GO_ZERO})*)?"),
)

_RUST = Syntax(
    language="rust",
    display_name="Rust",
    grammar=Language(tree_sitter_rust.language()),
    fence_tags=frozenset({"rust", "rs"}),
    functions=frozenset({"function_item"}),
    containers=MappingProxyType({"impl_item": "type", "trait_item": "name", "mod_item": "name"}),
    namespaces=frozenset({"mod_item"}),
    receiver_field=None,
    definitions=frozenset(
        {
            "function_item",
            "struct_item",
            "enum_item",
            "union_item",
            "trait_item",
            "impl_item",
            "type_item",
            "mod_item",
            "macro_definition",
        }
    ),
    data=frozenset({"const_item", "static_item"}),
    imports=frozenset({"use_declaration", "extern_crate_declaration"}),
    first_imports=frozenset(),
    import_style="rust_paths",
    headers=frozenset({"inner_attribute_item"}),
    header_comment=re.compile(r"//!|/\*!"),
    comments=frozenset({"line_comment", "block_comment"}),
    attributes=frozenset({"attribute_item"}),
    decorations=frozenset(),
    doc_comment=re.compile(r"//|/\*"),
    docstring=None,
    statement_groups=frozenset(),
    strings=frozenset({"raw_string_literal", "string_literal"}),
    name_carriers=frozenset(),
    named_by_fields=MappingProxyType({"impl_item": ("trait", "type")}),
    method_marker=re.compile(r"\(\s*(&\s*('\w+\s+)?)?(mut\s+)?self\b"),
    overloads=False,
    class_wrapper=None,
    stub_statements=_patterns(r"(todo|unimplemented)!\s*[(\[{].*[)\]}];?", rf"panic!\s*\({_NOT_DONE}\);?"),
    zero_return=re.compile(
        r"(return )?(0|0\.0|false|\"\"|None|\(\)|vec!\[\]|Default::default\(\)|String::from\(\"\"\)"
        r"|\"\"\.to_string\(\)|[\w:<>, ]+::new\(\));?"
    ),
    modifiers=frozenset({"visibility_modifier", "function_modifiers"}),
    modifier_groups=frozenset({"function_modifiers"}),
    visibility=re.compile(r"pub\b.*", re.DOTALL),
)

SYNTAXES: Mapping[str, Syntax] = MappingProxyType(
    {syntax.language: syntax for syntax in (_PYTHON, _JAVA, _CPP, _GO, _RUST)}
)


@cache
def syntax_for(language: str) -> Syntax:
    """The table entry of a language name as users write it ("C++", "golang"); UnsupportedLanguage otherwise."""
    return SYNTAXES[check_language(language)]
