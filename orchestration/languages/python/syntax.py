"""Python: the tree-sitter vocabulary the splicer reads (see stubs.syntax.Syntax)."""

from __future__ import annotations

import re
from types import MappingProxyType

import tree_sitter_python
from tree_sitter import Language

from ...stubs.syntax import Syntax, stub_patterns
from . import SPEC

SYNTAX = Syntax(
    spec=SPEC,
    grammar=Language(tree_sitter_python.language()),
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
    stub_statements=stub_patterns(r"pass", r"\.\.\.", r"raise NotImplementedError(\(.*\))?"),
    zero_return=re.compile(r"return( (None|0|0\.0|False|''|\"\"|\[\]|\{\}|\(\)|(set|dict|list)\(\)))?"),
    blank_lines_between_items=2,
    modifiers=frozenset({"async"}),
    compiles_in_process=True,
)
