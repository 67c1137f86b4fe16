"""The user's signature kept around a model's function: what the file declares wins over what the answer drops.

Models often answer `fn mean(...)` for `pub fn mean(...)`, or leave out `public static`, `inline` or an
annotation. Spliced as written, the function turns private or loses its linkage and the project no longer
builds, through no fault of its body. So the modifiers the file's function has and the answer's lacks are put
back (the file's visibility replacing the answer's); a function whose name or parameter count differs is not
the one asked for, and that is the answer's failure, said in words a model can act on.
"""

from __future__ import annotations

from tree_sitter import Node

from .answers import SpliceError
from .edits import Edit, apply_edits
from .syntax import Syntax
from .trees import Parsed, parameter_count, parameters_of, token_key


def check_same_function(file: Parsed, target: Node, answer: Parsed, replacement: Node, name: str) -> None:
    """SpliceError when the answer's function takes another number of parameters than the file's."""
    syntax = file.syntax
    expected, got = parameter_count(target, syntax), parameter_count(replacement, syntax)
    if expected == got:
        return
    declared, answered = parameters_of(target), parameters_of(replacement)
    was = file.node_text(declared) if declared is not None else "()"
    now = answer.node_text(answered) if answered is not None else "()"
    raise SpliceError(
        f"the answer changes the parameters of `{name}` from `{_one_line(was)}` ({expected}) to `{_one_line(now)}` "
        f"({got}): callers pass {expected}; keep the signature the file declares: `{signature_line(file, target)}`"
    )


def signature_line(file: Parsed, function: Node) -> str:
    """The function's header as the file writes it, up to its body, on one line."""
    body = function.child_by_field_name("body")
    end = body.start_byte if body is not None else file.end(function)
    return _one_line(file.text(function.start_byte, end)).rstrip(" :{")


def with_file_modifiers(file: Parsed, target: Node, answer: Parsed, replacement: Node) -> str | None:
    """The answer's code with the file's modifiers that its function lacks put back, or None if it lacks none."""
    syntax = file.syntax
    theirs = modifiers_of(replacement, syntax)
    present = {token_key(node): node for node in theirs}
    their_visibility = next((node for node in theirs if _is_visibility(answer, node)), None)
    edits: list[Edit] = []
    anchor: Node | None = None  # the answer's modifier the next missing one goes after
    for order, ours in enumerate(modifiers_of(target, syntax)):
        key = token_key(ours)
        if key in present:
            anchor = present[key]
            continue
        text = file.node_text(ours)
        if _is_visibility(file, ours) and their_visibility is not None:
            edits.append(Edit(their_visibility.start_byte, their_visibility.end_byte, text, order))
            anchor = their_visibility
            continue
        own_line = _on_own_line(file, ours)
        if anchor is None:
            start = theirs[0] if theirs else replacement
            gap = "\n" + answer.indent_at(start.start_byte) if own_line else " "
            edits.append(Edit(start.start_byte, start.start_byte, text + gap, order))
        else:
            gap = "\n" + answer.indent_at(anchor.start_byte) if own_line else " "
            edits.append(Edit(answer.end(anchor), answer.end(anchor), gap + text, order))
    return apply_edits(answer.src, edits) if edits else None


def modifiers_of(function: Node, syntax: Syntax) -> list[Node]:
    """The modifiers before the function's name, one node each (a group's members taken one by one)."""
    found: list[Node] = []
    for child in function.children:
        if child.type in syntax.modifier_groups:
            found.extend(member for member in child.children if member.type not in syntax.comments)
        elif child.type in syntax.modifiers:
            found.append(child)
        elif child.type not in syntax.comments:
            break
    return found


def _is_visibility(parsed: Parsed, node: Node) -> bool:
    pattern = parsed.syntax.visibility
    return pattern is not None and pattern.fullmatch(parsed.node_text(node)) is not None


def _on_own_line(file: Parsed, node: Node) -> bool:
    """An annotation or attribute written on a line of its own (`@Override`, `[[nodiscard]]`)."""
    after = file.src[node.end_byte : file.line_end(node.end_byte)]
    return file.starts_line(node.start_byte) and not after.strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())
