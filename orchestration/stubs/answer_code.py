"""An answer's code taken apart: the target function, its helpers, its imports, and what to leave out."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .answers import SpliceError
from .syntax import Syntax, all_syntaxes
from .trees import (
    Parsed,
    decorated,
    enclosing_containers,
    error_signature,
    function_name,
    function_nodes,
    functions_named,
    is_grammar_gap,
    members_parent,
    own_function,
    parse,
    scope_child,
    syntax_errors,
)
from .units import ENTRY_POINT, Kind, Unit, units_of


@dataclass(frozen=True)
class AnswerCode:
    parsed: Parsed
    functions: list[Node]  # the functions named like the target, outermost first


@dataclass(frozen=True)
class AnswerParts:
    function: Node  # the function that replaces the target
    members: list[Unit]  # its siblings in the class, impl or namespace that wraps it in the answer
    free: list[Unit]  # the answer's top-level items, the wrapper excluded
    overloads: list[Unit]  # other functions of the same name, where the language allows that
    imports: list[Node]


def read_answer(syntax: Syntax, code: str, name: str) -> AnswerCode:
    """The answer's code parsed, with the candidates for the function `name`; SpliceError when there are none."""
    text = code.replace("\r\n", "\n")
    if not text.strip():
        raise SpliceError(f"the answer is empty: expected the complete function `{name}`")
    parsed = parse(syntax, text)
    found = functions_named(parsed.root, syntax, name)
    if syntax.class_wrapper and not any(enclosing_containers(function, syntax) for function in found):
        wrapped = _wrapped(parsed, syntax.class_wrapper)
        found_wrapped = functions_named(wrapped.root, syntax, name)
        if found_wrapped:
            parsed, found = wrapped, found_wrapped
    if not found or syntax_errors(parsed.root):
        other = _language_it_looks_like(text, syntax, name)
        if other is not None:
            raise SpliceError(
                f"the answer looks like {other.display_name} code, not {syntax.display_name}: "
                f"answer with `{name}` written in {syntax.display_name}"
            )
    if not found:
        raise SpliceError(_no_function(parsed, name))
    return AnswerCode(parsed, found)


def _no_function(parsed: Parsed, name: str) -> str:
    """Why the answer has no function `name`: what it defines instead, and whether it parses at all."""
    syntax = parsed.syntax
    defined = sorted({function_name(function, syntax) for _, function in function_nodes(parsed.root, syntax)} - {""})
    listed = f" (it defines {', '.join(f'`{other}`' for other in defined)})" if defined else ""
    problems = syntax_errors(parsed.root)
    broken = (
        f" and does not parse as {syntax.display_name} (syntax error near `{parsed.line_text(problems[0].start_byte)}`)"
        if problems
        else ""
    )
    advice = f"answer with the complete function `{name}`, signature and body"
    return f"the answer contains no function `{name}`{listed}{broken}: {advice}"


def parts_of(answer: AnswerCode, function: Node, name: str) -> AnswerParts:
    """The answer around `function`: what wraps it, what sits beside it, what it imports."""
    parsed, syntax = answer.parsed, answer.parsed.syntax
    own = decorated(function, syntax)
    check_parses(parsed, own, f"`{name}`")
    keep_entry_point = name == ENTRY_POINT
    containers = enclosing_containers(function, syntax)
    members = units_of(parsed, members_parent(containers[0]), keep_entry_point) if containers else []
    outermost = scope_child(own, parsed.root)
    top = [unit for unit in units_of(parsed, parsed.root, keep_entry_point) if unit.node != outermost]
    others = [unit for unit in members + top if unit.node != own]
    same_name = [unit for unit in others if name in unit.keys]
    overloads = [unit for unit in same_name if syntax.overloads and own_function(unit.node, syntax) is not None]
    return AnswerParts(
        function=function,
        members=[unit for unit in members if _is_helper(unit) and unit.node != own and unit not in same_name],
        free=[unit for unit in top if _is_helper(unit) and unit not in same_name],
        overloads=overloads,
        imports=[unit.node for unit in top if unit.kind is Kind.IMPORT],
    )


def _is_helper(unit: Unit) -> bool:
    return unit.kind in (Kind.DEFINITION, Kind.DATA)


def check_parses(parsed: Parsed, node: Node, what: str) -> None:
    """SpliceError unless the answer's `node` parses, grammar gaps aside."""
    problems = [error for error in syntax_errors(node) if not is_grammar_gap(error, parsed.syntax)]
    if problems:
        raise SpliceError(
            f"the answer's {what} does not parse as {parsed.syntax.display_name}: syntax error near "
            f"`{parsed.line_text(problems[0].start_byte)}`"
        )


def grammar_gaps(parsed: Parsed, nodes: list[Node]) -> list[tuple[bool, str, str]]:
    """The signatures of the grammar gaps in the answer's code that lands in the file."""
    return [
        error_signature(parsed, error)
        for node in nodes
        for error in syntax_errors(node)
        if is_grammar_gap(error, parsed.syntax)
    ]


def _wrapped(parsed: Parsed, wrapper: tuple[str, str]) -> Parsed:
    """Bare methods put into a class so that they parse as members; imports stay outside it."""
    syntax = parsed.syntax
    head_end = 0
    for node in parsed.root.named_children:
        if node.type in syntax.imports | syntax.headers:
            head_end = node.end_byte
        elif node.type not in syntax.comments:
            break
    opening, closing = wrapper
    text = parsed.src[:head_end] + f"\n{opening}\n".encode() + parsed.src[head_end:] + f"\n{closing}\n".encode()
    return parse(syntax, text)


def _language_it_looks_like(text: str, syntax: Syntax, name: str) -> Syntax | None:
    """Another language in which the answer parses cleanly and defines `name`: a model answering off-language."""
    for other in all_syntaxes():
        if other is syntax:
            continue
        parsed = parse(other, text)
        if not syntax_errors(parsed.root) and functions_named(parsed.root, other, name):
            return other
    return None
