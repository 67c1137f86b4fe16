"""Splicing a model's function, with the imports and helpers it brought, into a source file.

The file changes in three places only: the target function is replaced, helpers the file lacks go right above
it (or above its class, for free functions), and imports the file lacks join its import area. Every other byte
stays as it was, line breaks included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tree_sitter import Node

from .answer_code import AnswerCode, AnswerParts, check_parses, grammar_gaps, parts_of, read_answer
from .answers import SpliceError
from .edits import Edit, apply_edits
from .imports import import_edits
from .indentation import moved, reindent
from .signature import check_same_function, signature_line, with_file_modifiers
from .syntax import Syntax, syntax_for
from .trees import (
    Parsed,
    decorated,
    definition_start,
    docstring_of,
    enclosing_containers,
    error_signature,
    functions_named,
    leading_start,
    members_parent,
    name_leaves,
    own_function,
    parameter_count,
    parameters_key,
    parse,
    scope_child,
    syntax_errors,
)
from .units import Kind, Unit, units_of

# Edit order at a shared offset: imports (0), then helpers, then the function itself.
_HELPER_ORDER = 1
_FUNCTION_ORDER = 2


def splice(source: str, language: str, function_name: str, answer_code: str) -> str:
    """`source` with its function `function_name` replaced by the one in `answer_code`.

    The answer's imports and helpers that the file lacks come along; its tests, mains, package clauses and
    wrapper classes do not. Raises SpliceError, with a reason a model can act on, when the file has no such
    function, the answer has none or is in another language, or the result would not parse.
    """
    syntax = syntax_for(language)
    file = parse(syntax, source)
    in_file = functions_named(file.root, syntax, function_name)
    if not in_file:
        raise SpliceError(f"the file has no function `{function_name}` to replace")
    answer = _answer_as_declared(file, in_file, answer_code, function_name)
    target, replacement = _matching_pair(file.syntax, in_file, answer.functions)
    parts = parts_of(answer, replacement, function_name)
    scopes = _Scopes.around(file, target)
    helpers = _helpers_to_add(file, scopes, answer.parsed, parts)
    landed = [decorated(replacement, syntax), *(unit.node for unit in helpers)]
    used = set().union(*(name_leaves(node) for node in landed))
    edits = [
        _function_edit(file, target, answer.parsed, replacement),
        *_helper_edits(file, scopes, answer.parsed, parts, helpers),
        *import_edits(file, leading_start(file, scopes.top_item), answer.parsed, parts.imports, used),
    ]
    result = apply_edits(file.src, edits)
    _check_result(file, result, grammar_gaps(answer.parsed, landed))
    return result


def _answer_as_declared(file: Parsed, in_file: list[Node], answer_code: str, name: str) -> AnswerCode:
    """The answer, refused if its function is not the file's (renamed, other parameters), with the modifiers
    the file declares and it dropped put back."""
    try:
        answer = read_answer(file.syntax, answer_code, name)
    except SpliceError as exc:
        raise SpliceError(f"{exc}; the file declares `{signature_line(file, in_file[0])}`") from None
    target, replacement = _matching_pair(file.syntax, in_file, answer.functions)
    check_same_function(file, target, answer.parsed, replacement, name)
    restored = with_file_modifiers(file, target, answer.parsed, replacement)
    return answer if restored is None else read_answer(file.syntax, restored, name)


def _matching_pair(syntax: Syntax, in_file: list[Node], in_answer: list[Node]) -> tuple[Node, Node]:
    """The target and its replacement: overloads pair up by parameter list, then by parameter count, else the
    first of each."""
    for same in (parameters_key, lambda function: parameter_count(function, syntax)):
        for replacement in in_answer:
            for target in in_file:
                if same(target) == same(replacement):
                    return target, replacement
    return in_file[0], in_answer[0]


@dataclass(frozen=True)
class _Scopes:
    """Where things go around the target in the file."""

    target: Node  # with its decorators or template header
    in_class: bool  # a method of a class or impl (not a namespace member): free helpers go outside
    scope_item: Node  # the target's ancestor among the items of its namespace (or the file)
    top_item: Node  # the target's ancestor among the file's top-level items: imports go above it

    @classmethod
    def around(cls, file: Parsed, target: Node) -> _Scopes:
        syntax = file.syntax
        own = decorated(target, syntax)
        containers = enclosing_containers(target, syntax)
        namespace = next((container for container in containers if container.type in syntax.namespaces), None)
        return cls(
            target=own,
            in_class=bool(containers) and containers[0].type not in syntax.namespaces,
            scope_item=scope_child(own, members_parent(namespace) if namespace else file.root),
            top_item=scope_child(own, file.root),
        )


def _function_edit(file: Parsed, target: Node, answer: Parsed, replacement: Node) -> Edit:
    """Replace the target; its decorators and attributes too when the answer brings its own."""
    answer_start = definition_start(answer, replacement)
    start = definition_start(file, target) if answer_start != replacement.start_byte else target.start_byte
    text = moved(answer, answer_start, answer.end(replacement), file.indent_at(start))
    text = _with_docstring(text, file, target, answer, replacement, answer_start)
    return Edit(start, file.end(target), text, _FUNCTION_ORDER)


def _with_docstring(text: str, file: Parsed, target: Node, answer: Parsed, replacement: Node, start: int) -> str:
    """Keep the file's docstring when the answer's function comes without one: it is the user's spec."""
    syntax = file.syntax
    doc = docstring_of(target, syntax)
    body = replacement.child_by_field_name("body")
    if doc is None or body is None or not body.children or docstring_of(replacement, syntax) is not None:
        return text
    first = body.children[0]
    if not answer.starts_line(first.start_byte):
        return text  # a one-line `def f(): return x` has no line to put a docstring on
    row = first.start_point.row - answer.src.count(b"\n", 0, start)
    lines = text.split("\n")
    indent = lines[row][: len(lines[row]) - len(lines[row].lstrip(" \t"))]
    docstring = reindent(file.node_text(doc).replace("\r\n", "\n"), file.indent_at(doc.start_byte), indent)
    lines.insert(row, indent + docstring)
    return "\n".join(lines)


def _helper_edits(file: Parsed, scopes: _Scopes, answer: Parsed, parts: AnswerParts, helpers: list[Unit]) -> list[Edit]:
    """Insert the helpers: methods beside the target, free functions beside its class."""
    members = [*parts.members, *parts.overloads]
    beside_target: list[Unit] = []
    beside_scope: list[Unit] = []
    for unit in helpers:
        goes_in_class = unit in members or _is_method(answer, unit)
        (beside_target if scopes.in_class and goes_in_class else beside_scope).append(unit)
    if scopes.scope_item == scopes.target:
        beside_scope, beside_target = [], sorted(beside_scope + beside_target, key=lambda unit: unit.start)
    placed = ((scopes.target, beside_target), (scopes.scope_item, beside_scope))
    return [_insert_above(file, anchor, answer, units) for anchor, units in placed if units]


def _helpers_to_add(file: Parsed, scopes: _Scopes, answer: Parsed, parts: AnswerParts) -> list[Unit]:
    """New definitions, and new constants/fields that the kept code uses; the file's own names win."""
    defined = _names_defined_around(file, scopes.target)
    fresh = [unit for unit in parts.members + parts.free if not set(unit.keys) & defined]
    kept = [unit for unit in fresh if unit.kind is Kind.DEFINITION] + parts.overloads
    used = name_leaves(decorated(parts.function, answer.syntax)).union(*(name_leaves(unit.node) for unit in kept))
    waiting = [unit for unit in fresh if unit.kind is Kind.DATA]
    while newly_used := [unit for unit in waiting if set(unit.keys) & used]:
        kept += newly_used
        waiting = [unit for unit in waiting if unit not in newly_used]
        used = used.union(*(name_leaves(unit.node) for unit in newly_used))
    for unit in kept:
        check_parses(answer, unit.node, f"helper `{', '.join(unit.keys)}`")
    return sorted(kept, key=lambda unit: unit.start)


def _names_defined_around(file: Parsed, target: Node) -> set[str]:
    """Names the file defines in the target's scopes: its class, the enclosing namespaces, the top level."""
    scopes = [file.root, *(members_parent(container) for container in enclosing_containers(target, file.syntax))]
    return {
        key
        for scope in scopes
        for unit in units_of(file, scope, entry_point_kept=True)
        if unit.kind is not Kind.IMPORT
        for key in unit.keys
    }


def _is_method(answer: Parsed, unit: Unit) -> bool:
    """A bare function that belongs in a class: it takes `self` (Python, Rust) or is a static/class method."""
    syntax = answer.syntax
    function = own_function(unit.node, syntax)
    if syntax.method_marker is None or function is None:
        return False
    parameters = function.child_by_field_name("parameters")
    header = answer.text(unit.node.start_byte, parameters.end_byte if parameters is not None else function.end_byte)
    return syntax.method_marker.search(header) is not None


def _insert_above(file: Parsed, anchor: Node, answer: Parsed, units: list[Unit]) -> Edit:
    """Insert the units above `anchor` and its comments, at its indentation, a blank line apart."""
    at = leading_start(file, anchor)
    indent = file.indent_at(anchor.start_byte)
    blank_lines = file.syntax.blank_lines_between_items if anchor.parent == file.root else 1
    gap = "\n" * (blank_lines + 1)
    texts = [moved(answer, unit.start, unit.end, indent) for unit in units]
    if file.starts_line(at):
        line = file.line_start(at)
        return Edit(line, line, "".join(indent + text + gap for text in texts), _HELPER_ORDER)
    return Edit(at, at, "".join(text + gap + indent for text in texts), _HELPER_ORDER)


def _check_result(file: Parsed, result: str, known_gaps: list[tuple[bool, str, str]]) -> None:
    """SpliceError when the result has syntax errors that neither the file nor the answer's code had."""
    after = parse(file.syntax, result)
    errors = syntax_errors(after.root)
    before = Counter(error_signature(file, error) for error in syntax_errors(file.root)) + Counter(known_gaps)
    new = [error for error in errors if not _consume(before, error_signature(after, error))]
    if new:
        raise SpliceError(
            f"the function does not fit the file: the spliced {file.syntax.display_name} file has a syntax error "
            f"near `{after.line_text(new[0].start_byte)}`"
        )


def _consume(counts: Counter[tuple[bool, str, str]], signature: tuple[bool, str, str]) -> bool:
    if counts[signature] <= 0:
        return False
    counts[signature] -= 1
    return True
