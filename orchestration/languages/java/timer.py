"""Java's method timer (see `ProjectLanguage.timed_files`): the method is renamed, and a wrapper under its own name,
right after it in the same class, times the calls to it with the help of a class of PerfOrch's in the same package
(PerforchTimer.java, beside the edited file)."""

from __future__ import annotations

import re
from pathlib import Path

from tree_sitter import Node

from ...stubs.syntax import syntax_for
from ...stubs.trees import Parsed, functions_named, parse

_HELPER = Path(__file__).with_name("PerforchTimer.java.txt")
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_OVERRIDE = re.compile(rb"@Override\b\s*")
RENAMED_PREFIX = "perforchTimed"


def timed_files(source: str, relative: str, function: str) -> dict[str, str] | None:
    parsed = parse(syntax_for("java"), source)
    found = [
        node for node in functions_named(parsed.root, parsed.syntax, function) if node.type == "method_declaration"
    ]
    node = found[0] if found else None
    if node is None or node.parent is None or node.parent.type != "class_body":
        return None  # not a method of a class (an interface's, an enum constant's body...)
    name, parameters, body = (node.child_by_field_name(field) for field in ("name", "parameters", "body"))
    if name is None or parameters is None or body is None:
        return None
    src = parsed.src
    new_name = (RENAMED_PREFIX + function[:1].upper() + function[1:]).encode()
    # The renamed method overrides nothing: an @Override on it would not compile.
    head = _OVERRIDE.sub(b"", src[node.start_byte : name.start_byte])
    renamed = head + new_name + src[name.end_byte : node.end_byte]
    wrapper = _wrapper(parsed, node, name, parameters, body, new_name.decode())
    timed = src[: node.start_byte] + renamed + b"\n\n" + wrapper.lstrip().encode() + src[node.end_byte :]
    package = _PACKAGE.search(source)
    helper = _HELPER.read_text()
    helper = helper.replace("package PACKAGE;", f"package {package.group(1)};" if package else "")
    return {relative: timed.decode("utf-8"), str(Path(relative).parent / "PerforchTimer.java"): helper}


def _wrapper(parsed: Parsed, node: Node, name: Node, parameters: Node, body: Node, renamed: str) -> str:
    declared, passed = [], []
    for parameter in parameters.named_children:
        if parameter.type not in ("formal_parameter", "spread_parameter"):
            continue  # a receiver parameter or a comment
        argument = f"p{len(passed)}"
        declared.append(_renamed_parameter(parsed, parameter, argument))
        passed.append(argument)
    head = parsed.text(node.start_byte, name.start_byte)
    tail = parsed.text(parameters.end_byte, body.start_byte)  # throws
    returned = node.child_by_field_name("type")
    kind = parsed.node_text(returned) if returned is not None else "void"
    call = f"{renamed}({', '.join(passed)})"
    void = kind == "void"
    lines = [
        f"{head}{parsed.node_text(name)}({', '.join(declared)}){tail}{{",
        "    String perforchLog = PerforchTimer.outermost();",
        "    if (perforchLog == null) {",
        *([f"        {call};", "        return;"] if void else [f"        return {call};"]),
        "    }",
        f"    String perforchArguments = PerforchTimer.shown({', '.join(passed)});",
        "    long perforchElapsed;",
        *([] if void else [f"    {kind} perforchResult;"]),
        "    PerforchTimer.INSIDE.get()[0] = true;",
        "    try {",
        "        long perforchStarted = System.nanoTime();",
        f"        {'' if void else 'perforchResult = '}{call};",
        "        perforchElapsed = System.nanoTime() - perforchStarted;",
        "    } finally {",
        "        PerforchTimer.INSIDE.get()[0] = false;",
        "    }",
        f"    PerforchTimer.record(perforchLog, perforchElapsed, perforchArguments, "
        f"PerforchTimer.shown({'' if void else 'perforchResult'}));",
        *([] if void else ["    return perforchResult;"]),
        "}",
    ]
    indent = parsed.indent_at(node.start_byte)
    return "\n".join(indent + line for line in lines) + "\n"


def _renamed_parameter(parsed: Parsed, parameter: Node, argument: str) -> str:
    """The parameter with its name replaced by `argument` (`final int[] xs` -> `final int[] p0`)."""
    named = parameter.child_by_field_name("name")
    if named is None:  # a spread parameter keeps its name in a variable_declarator
        declarator = next((c for c in parameter.named_children if c.type == "variable_declarator"), None)
        named = declarator.child_by_field_name("name") if declarator is not None else None
    if named is None:
        return parsed.node_text(parameter)
    raw = parsed.src[parameter.start_byte : parameter.end_byte]
    start, stop = named.start_byte - parameter.start_byte, named.end_byte - parameter.start_byte
    return (raw[:start] + argument.encode() + raw[stop:]).decode("utf-8")
