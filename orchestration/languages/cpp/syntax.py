"""C++: the tree-sitter vocabulary the splicer reads (see stubs.syntax.Syntax)."""

from __future__ import annotations

import re
from types import MappingProxyType

import tree_sitter_cpp
from tree_sitter import Language

from ...stubs.syntax import NOT_DONE_STRING, Syntax, stub_patterns
from . import SPEC

SYNTAX = Syntax(
    spec=SPEC,
    grammar=Language(tree_sitter_cpp.language()),
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
    stub_statements=stub_patterns(rf"throw (std::)?\w+\({NOT_DONE_STRING}\);", r"assert\(false\);"),
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
