"""Go: the tree-sitter vocabulary the splicer reads (see stubs.syntax.Syntax)."""

from __future__ import annotations

import re
from types import MappingProxyType

import tree_sitter_go
from tree_sitter import Language

from ...stubs.syntax import NOT_DONE_STRING, Syntax, stub_patterns
from . import SPEC

_GO_ZERO = r"(0|0\.0|\"\"|nil|false|(\[\]|map\[[^\]]*\])?[\w.*\[\]]*\{\})"

SYNTAX = Syntax(
    spec=SPEC,
    grammar=Language(tree_sitter_go.language()),
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
    stub_statements=stub_patterns(rf"panic\({NOT_DONE_STRING}\)"),
    zero_return=re.compile(rf"return( {_GO_ZERO}(, ?{_GO_ZERO})*)?"),
)
