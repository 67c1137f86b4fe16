"""Java: the tree-sitter vocabulary the splicer reads (see stubs.syntax.Syntax)."""

from __future__ import annotations

import re
from types import MappingProxyType

import tree_sitter_java
from tree_sitter import Language

from ...stubs.syntax import NOT_DONE_STRING, Syntax, stub_patterns
from . import SPEC

SYNTAX = Syntax(
    spec=SPEC,
    grammar=Language(tree_sitter_java.language()),
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
    stub_statements=stub_patterns(
        r"throw new (java\.lang\.)?UnsupportedOperationException\(.*\);",
        rf"throw new [\w.]+\({NOT_DONE_STRING}\);",
    ),
    zero_return=re.compile(
        r"return( (null|0[lLfFdD]?|0\.0[fFdD]?|false|''|\"\"|'\\0'|new [\w.<>, ]+(\(\)|\[0\])"
        r"|Collections\.empty\w*\(\)|(List|Set|Map)\.of\(\)))?;"
    ),
    modifiers=frozenset({"modifiers"}),
    modifier_groups=frozenset({"modifiers"}),
    visibility=re.compile(r"public|protected|private"),
)
