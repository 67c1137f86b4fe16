"""Rust: the tree-sitter vocabulary the splicer reads (see stubs.syntax.Syntax)."""

from __future__ import annotations

import re
from types import MappingProxyType

import tree_sitter_rust
from tree_sitter import Language

from ...stubs.syntax import NOT_DONE_STRING, Syntax, stub_patterns
from . import SPEC

SYNTAX = Syntax(
    spec=SPEC,
    grammar=Language(tree_sitter_rust.language()),
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
    stub_statements=stub_patterns(r"(todo|unimplemented)!\s*[(\[{].*[)\]}];?", rf"panic!\s*\({NOT_DONE_STRING}\);?"),
    zero_return=re.compile(
        r"(return )?(0|0\.0|false|\"\"|None|\(\)|vec!\[\]|Default::default\(\)|String::from\(\"\"\)"
        r"|\"\"\.to_string\(\)|[\w:<>, ]+::new\(\));?"
    ),
    modifiers=frozenset({"visibility_modifier", "function_modifiers"}),
    modifier_groups=frozenset({"function_modifiers"}),
    visibility=re.compile(r"pub\b.*", re.DOTALL),
)
