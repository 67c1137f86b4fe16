"""Go's function timer (see `ProjectLanguage.timed_files`): the function is renamed in the edited file, and a
wrapper under its own name, in a file of its own beside it (with its own imports), times the calls to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from ...stubs.syntax import syntax_for
from ...stubs.trees import Parsed, functions_named, parse

_TEMPLATE = Path(__file__).with_name("perforch_timer.go.txt")
_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)
TIMER_FILE = "perforch_timer.go"
RENAMED_PREFIX = "perforchTimed"


@dataclass(frozen=True)
class _Signature:
    receiver: str  # "(perforchReceiver *T) ", or ""
    type_parameters: str  # "[T comparable]", or ""
    parameters: list[tuple[str, str]]  # (name, type); a variadic one's type starts with "..."
    results: list[str]  # the result types


def timed_files(source: str, relative: str, function: str) -> dict[str, str] | None:
    parsed = parse(syntax_for("go"), source)
    package = _PACKAGE.search(source)
    found = functions_named(parsed.root, parsed.syntax, function)
    if package is None or not found or found[0].child_by_field_name("name") is None:
        return None
    node = found[0]
    name = node.child_by_field_name("name")
    renamed = parsed.src[: name.start_byte] + (RENAMED_PREFIX + function).encode() + parsed.src[name.end_byte :]
    timer = _TEMPLATE.read_text().replace("package PACKAGE", f"package {package.group(1)}")
    wrapper = _wrapper(function, _signature(parsed, node))
    return {relative: renamed.decode("utf-8"), str(Path(relative).parent / TIMER_FILE): f"{timer}\n{wrapper}"}


def _signature(parsed: Parsed, node: Node) -> _Signature:
    receiver = node.child_by_field_name("receiver")
    receiver_type = _types(parsed, receiver)[0][1] if receiver is not None else None
    type_parameters = node.child_by_field_name("type_parameters")
    result = node.child_by_field_name("result")
    if result is None:
        results = []
    elif result.type == "parameter_list":
        results = [kind for _, kind in _types(parsed, result)]
    else:
        results = [parsed.node_text(result)]
    parameters = [(f"p{n}", kind) for n, (_, kind) in enumerate(_types(parsed, node.child_by_field_name("parameters")))]
    return _Signature(
        f"(perforchReceiver {receiver_type}) " if receiver_type else "",
        parsed.node_text(type_parameters) if type_parameters is not None else "",
        parameters,
        results,
    )


def _types(parsed: Parsed, parameters: Node) -> list[tuple[str, str]]:
    """(name, type) of each parameter of a list, `a, b int` counting twice and `...int` keeping its dots."""
    found = []
    for declaration in parameters.named_children:
        kind = declaration.child_by_field_name("type")
        if kind is None:
            continue  # a comment
        dots = "..." if declaration.type == "variadic_parameter_declaration" else ""
        names = declaration.children_by_field_name("name") or [None]
        found += [(parsed.node_text(n) if n else "_", dots + parsed.node_text(kind)) for n in names]
    return found


def _wrapper(function: str, signature: _Signature) -> str:
    parameters = ", ".join(f"{name} {kind}" for name, kind in signature.parameters)
    arguments = ", ".join(name + ("..." if kind.startswith("...") else "") for name, kind in signature.parameters)
    shown_arguments = ", ".join(name for name, _ in signature.parameters)
    results = signature.results
    returns = f" ({', '.join(results)})" if len(results) > 1 else (f" {results[0]}" if results else "")
    owner = "perforchReceiver." if signature.receiver else ""
    call = f"{owner}{RENAMED_PREFIX}{function}({arguments})"
    names = ", ".join(f"r{n}" for n in range(len(results)))
    outcome = f"{names} := {call}" if results else call
    give_back = f"return {names}" if results else "return"
    direct = f"return {call}" if results else f"{call}\n\t\treturn"
    return (
        f"func {signature.receiver}{function}{signature.type_parameters}({parameters}){returns} {{\n"
        f"\tif !perforchOutermost() {{\n\t\t{direct}\n\t}}\n"
        "\tdefer perforchInside.Store(false)\n"
        f"\targuments := perforchShown({shown_arguments})\n"
        "\tstarted := time.Now()\n"
        f"\t{outcome}\n"
        "\telapsed := time.Since(started)\n"
        f"\tperforchRecord(elapsed, arguments, perforchShown({names}))\n"
        f"\t{give_back}\n}}\n"
    )
