"""C++'s function timer (see `ProjectLanguage.timed_files`): the function is renamed, and a wrapper under its own
name, right after it in the same scope, times the calls to it; the timer's helpers go at the top of the file,
followed by `#line 1` so compiler messages keep the file's own line numbers. Free functions and functions defined
inside their class; not templates, nor members defined outside their class (the renamed one would need a
declaration in the class)."""

from __future__ import annotations

from pathlib import Path

from tree_sitter import Node

from ...stubs.syntax import syntax_for
from ...stubs.trees import Parsed, functions_named, parse

_HELPERS = Path(__file__).with_name("perforch_timer.hpp.txt")
RENAMED_PREFIX = "perforch_timed_"
_NAMES = ("identifier", "field_identifier")


def timed_files(source: str, relative: str, function: str) -> dict[str, str] | None:
    parsed = parse(syntax_for("cpp"), source)
    found = functions_named(parsed.root, parsed.syntax, function)
    node = found[0] if found else None
    declarator = _function_declarator(node) if node is not None else None
    if node is None or declarator is None or node.parent is None or node.parent.type == "template_declaration":
        return None
    name, parameters, body = (
        declarator.child_by_field_name("declarator"),
        declarator.child_by_field_name("parameters"),
        node.child_by_field_name("body"),
    )
    if name is None or name.type not in _NAMES or parameters is None or body is None:
        return None
    wrapper = _wrapper(parsed, node, name, parameters, body)
    if wrapper is None:
        return None
    src = parsed.src
    renamed = (
        src[node.start_byte : name.start_byte]
        + (RENAMED_PREFIX + function).encode()
        + src[name.end_byte : node.end_byte]
    )
    timed = src[: node.start_byte] + renamed + b"\n\n" + wrapper.encode() + src[node.end_byte :]
    return {relative: _HELPERS.read_text() + timed.decode("utf-8")}


def _function_declarator(node: Node) -> Node | None:
    declarator = node.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator") or next(iter(declarator.named_children), None)
    return declarator


def _wrapper(parsed: Parsed, node: Node, name: Node, parameters: Node, body: Node) -> str | None:
    declared, passed = [], []
    for parameter in parameters.named_children:
        if parameter.type not in ("parameter_declaration", "optional_parameter_declaration"):
            return None  # variadic (...) or unknown
        argument = f"p{len(passed)}"
        declared.append(_renamed_parameter(parsed, parameter, argument))
        by_reference = "&" in declared[-1] and "&&" not in declared[-1]
        passed.append(argument if by_reference else f"std::move({argument})")
    head = parsed.text(node.start_byte, name.start_byte)
    tail = parsed.text(parameters.end_byte, body.start_byte)  # const, noexcept, -> trailing return type
    signature = f"{head}{parsed.node_text(name)}({', '.join(declared)}){tail}"
    call = f"{RENAMED_PREFIX}{parsed.node_text(name)}({', '.join(passed)})"
    shown = ", ".join(f"p{n}" for n in range(len(passed)))
    returns_nothing = (
        node.child_by_field_name("type") is not None and parsed.node_text(node.child_by_field_name("type")) == "void"
    )
    result = "" if returns_nothing else "decltype(auto) perforch_result = "
    outcome = "::perforch_timer::shown()" if returns_nothing else "::perforch_timer::shown(perforch_result)"
    direct = f"{call};\n        return;" if returns_nothing else f"return {call};"
    return (
        f"{signature}{{\n"
        "    const char* perforch_log = ::perforch_timer::log_file();\n"
        f"    if (perforch_log == nullptr) {{\n        {direct}\n    }}\n"
        f"    std::string perforch_arguments = ::perforch_timer::shown({shown});\n"
        "    ::perforch_timer::inside = true;\n"
        "    ::perforch_timer::leaving perforch_leaving;\n"
        "    auto perforch_started = std::chrono::steady_clock::now();\n"
        f"    {result}{call};\n"
        "    auto perforch_elapsed = std::chrono::steady_clock::now() - perforch_started;\n"
        f"    ::perforch_timer::record(perforch_log, perforch_elapsed, perforch_arguments, {outcome});\n"
        + ("" if returns_nothing else "    return perforch_result;\n")
        + "}\n"
    )


def _renamed_parameter(parsed: Parsed, parameter: Node, argument: str) -> str:
    """The parameter's declaration with its name (if any) replaced by `argument`, without a default value."""
    declarator = parameter.child_by_field_name("declarator")
    end = declarator.end_byte if declarator is not None else parameter.child_by_field_name("type").end_byte
    text = parsed.text(parameter.start_byte, end)
    identifier = _identifier(declarator)
    if identifier is None:
        return f"{text} {argument}"
    start, stop = identifier.start_byte - parameter.start_byte, identifier.end_byte - parameter.start_byte
    raw = parsed.src[parameter.start_byte : end]
    return (raw[:start] + argument.encode() + raw[stop:]).decode("utf-8")


def _identifier(declarator: Node | None) -> Node | None:
    while declarator is not None and declarator.type != "identifier":
        declarator = declarator.child_by_field_name("declarator") or next(
            (child for child in declarator.named_children if child.type != "type_qualifier"), None
        )
    return declarator
