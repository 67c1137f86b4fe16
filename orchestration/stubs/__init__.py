"""Functions in source files: find one by name or line, tell a stub from a written body, splice an answer in.

This package is the splicer; its public face is here, the work is done by its modules:
answers (code out of markdown), answer_code (an answer taken apart), splicing (into the file),
imports, units, indentation, edits, trees (tree-sitter questions) and syntax (the per-language table).
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .answers import AnswerError, SpliceError, extract_code_block
from .file_errors import FileSyntaxError, syntax_error_outside
from .indentation import reindent
from .splicing import splice
from .syntax import TODO_COMMENT, syntax_for
from .trees import (
    Parsed,
    container_name,
    decorated,
    definition_start,
    docstring_of,
    enclosing_containers,
    function_name,
    function_nodes,
    leading_items,
    lone_string,
    parse,
    receiver_type,
    walk,
)

__all__ = [
    "AnswerError",
    "FileSyntaxError",
    "FunctionIndex",
    "FunctionNotFound",
    "FunctionSpan",
    "SpliceError",
    "extract_code_block",
    "find_function",
    "is_stub",
    "splice",
    "syntax_error_outside",
]


class FunctionNotFound(LookupError):
    """No function has that name, or none spans that line."""


@dataclass(frozen=True)
class FunctionSpan:
    """A function as it stands in a file. Bytes are UTF-8 offsets, lines 0-based and inclusive.

    The span covers the definition with its decorators, template header or attributes, not its doc comment.
    """

    name: str
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    signature: str  # up to the body: `def f(x: int) -> int:`, `public int f(int x)`
    doc: str  # docstring, or the doc comment above it (or opening its body), as written; "" if none
    body: str
    indent: str  # the whitespace before the definition's first line
    container: str | None  # the enclosing class, impl, namespace or Go receiver type
    text: str  # the whole definition


def find_function(source: str, language: str, *, name: str | None = None, line: int | None = None) -> FunctionSpan:
    """The function called `name` (the outermost first), or the innermost one whose definition or doc
    comment spans the 0-based `line`; both, when both are given. Raises FunctionNotFound."""
    if name is None and line is None:
        raise ValueError("find_function needs a name or a line")
    parsed = parse(syntax_for(language), source)
    candidates = []
    for depth, function in function_nodes(parsed.root, parsed.syntax):
        if name is not None and function_name(function, parsed.syntax) != name:
            continue
        if line is not None and not _first_line(parsed, function) <= line <= function.end_point.row:
            continue
        candidates.append((depth, function))
    if not candidates:
        raise FunctionNotFound(_not_found(name, line))
    if line is not None:
        return _span(parsed, _innermost(candidates))
    _, function = min(candidates, key=lambda pair: (pair[0], pair[1].start_byte))
    return _span(parsed, function)


class FunctionIndex:
    """One parse of a file, asked again and again which function spans a line: an editor's cursor moving
    over one version of a file. Answers as find_function(line=...) does, without parsing each time."""

    def __init__(self, source: str, language: str) -> None:
        self._parsed = parse(syntax_for(language), source)
        self._functions = [
            (depth, function, _first_line(self._parsed, function), function.end_point.row)
            for depth, function in function_nodes(self._parsed.root, self._parsed.syntax)
        ]

    def at(self, line: int) -> FunctionSpan:
        """The innermost function whose definition or doc comment spans the 0-based `line`."""
        candidates = [(depth, function) for depth, function, first, last in self._functions if first <= line <= last]
        if not candidates:
            raise FunctionNotFound(_not_found(None, line))
        return _span(self._parsed, _innermost(candidates))

    def spans(self) -> list[FunctionSpan]:
        """Every function of the file, in the order they start."""
        ordered = sorted(self._functions, key=lambda entry: entry[1].start_byte)
        return [_span(self._parsed, function) for _, function, _, _ in ordered]


def is_stub(span: FunctionSpan, language: str) -> bool:
    """True when the body is still to be written: empty (comments and a docstring do not count), `pass`,
    `...`, a not-implemented raise/throw/panic/todo!(), or a lone zero-value return beside a TODO comment."""
    syntax = syntax_for(language)
    parsed = parse(syntax, reindent(span.text, span.indent, ""))
    function = next((function for _, function in function_nodes(parsed.root, syntax)), None)
    body = function.child_by_field_name("body") if function is not None else None
    if body is None:
        return False
    statements = _statements(parsed, function, body)
    if not statements:
        return True
    if len(statements) > 1:
        return False
    statement = " ".join(parsed.node_text(statements[0]).split())
    if any(pattern.fullmatch(statement) for pattern in syntax.stub_statements):
        return True
    comments = [node for node in walk(function) if node.type in syntax.comments]
    return bool(syntax.zero_return.fullmatch(statement)) and any(
        TODO_COMMENT.search(parsed.node_text(comment)) for comment in comments
    )


def _statements(parsed: Parsed, function: Node, body: Node) -> list[Node]:
    """The body's statements that do work: comments, docstrings, imports and grouping nodes (Go's
    statement_list) left out."""
    syntax = parsed.syntax
    found = []
    for child in body.named_children:
        if child.type in syntax.comments | syntax.imports or lone_string(child, syntax) is not None:
            continue
        if child.type in syntax.statement_groups:
            found.extend(inner for inner in child.named_children if inner.type not in syntax.comments)
        else:
            found.append(child)
    return found


def _first_line(parsed: Parsed, function: Node) -> int:
    """The line where the function's doc comment, attributes or decorators (or the definition) start."""
    item = decorated(function, parsed.syntax)
    heading = leading_items(parsed, item)
    return (heading[0] if heading else item).start_point.row


def _innermost(candidates: list[tuple[int, Node]]) -> Node:
    """Of the functions spanning a line: the deepest, then the latest starting."""
    _, function = max(candidates, key=lambda pair: (pair[0], pair[1].start_byte))
    return function


def _not_found(name: str | None, line: int | None) -> str:
    where = f"spans line {line} (0-based)"
    if name is not None and line is not None:
        return f"no function `{name}` {where}"
    return f"no function `{name}` in the file" if name is not None else f"no function {where}"


def _span(parsed: Parsed, function: Node) -> FunctionSpan:
    syntax = parsed.syntax
    start = definition_start(parsed, function)
    end = parsed.end(function)
    body = function.child_by_field_name("body")
    containers = enclosing_containers(function, syntax)
    container = container_name(containers[0], syntax) if containers else receiver_type(function, syntax)
    return FunctionSpan(
        name=function_name(function, syntax),
        start_byte=start,
        end_byte=end,
        start_line=parsed.src.count(b"\n", 0, start),
        end_line=parsed.src.count(b"\n", 0, end),
        signature=_signature(parsed, function, body),
        doc=_doc(parsed, function, body),
        body=parsed.node_text(body) if body else "",
        indent=parsed.indent_at(start),
        container=container,
        text=parsed.text(start, end),
    )


def _signature(parsed: Parsed, function: Node, body: Node | None) -> str:
    """The definition up to its body, without comments that sit between the two."""
    if body is None:
        return parsed.node_text(function)
    ends = [
        child.end_byte
        for child in function.children
        if child.end_byte <= body.start_byte and child.type not in parsed.syntax.comments
    ]
    return parsed.text(function.start_byte, max(ends, default=function.start_byte)).strip()


def _doc(parsed: Parsed, function: Node, body: Node | None) -> str:
    """The docstring; else the doc comments right above; else the comments opening the body (as in
    HumanEval's C++ prompts)."""
    syntax = parsed.syntax
    docstring = docstring_of(function, syntax)
    if docstring is not None:
        return _text(parsed, docstring)
    if syntax.docstring is not None:
        return ""
    heading = leading_items(parsed, decorated(function, syntax))
    above = [item for item in heading if item.type in syntax.comments and syntax.doc_comment.match(_text(parsed, item))]
    if above:
        return "\n".join(_text(parsed, comment) for comment in above)
    opening = []
    for child in body.named_children if body else []:
        if child.type not in syntax.comments:
            break
        opening.append(_text(parsed, child))
    return "\n".join(opening)


def _text(parsed: Parsed, node: Node) -> str:
    return parsed.node_text(node).replace("\r\n", "\n")
