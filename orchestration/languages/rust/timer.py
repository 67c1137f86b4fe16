"""Rust's function timer (see `ProjectLanguage.timed_files`): the function is renamed, and a wrapper under its
own name is put right after it, in the same scope (a module or an impl), with everything it needs declared inside
its body: std paths only, so the file's imports are untouched. Values are rendered with {:?} where the type is
Debug (an autoref rule picks the Debug impl when there is one), else not recorded."""

from __future__ import annotations

from tree_sitter import Node

from ...stubs.syntax import syntax_for
from ...stubs.trees import Parsed, functions_named, parse

RENAMED_PREFIX = "perforch_timed_"

# The wrapper's body after its arguments are named p0, p1...: @SHOWN@ renders them, @CALL@ calls the renamed
# function. `PERFORCH_INSIDE` stops a recursive call from being timed again.
_BODY = """{
    #[allow(dead_code)]
    struct PerforchShown<'a, T: ?Sized>(&'a T);
    #[allow(dead_code)]
    trait PerforchDebug { fn perforch_shown(&self) -> Option<String>; }
    impl<T: ?Sized + std::fmt::Debug> PerforchDebug for PerforchShown<'_, T> {
        fn perforch_shown(&self) -> Option<String> { Some(format!("{:?}", self.0)) }
    }
    #[allow(dead_code)]
    trait PerforchOpaque { fn perforch_shown(&self) -> Option<String>; }
    impl<T: ?Sized> PerforchOpaque for &PerforchShown<'_, T> {
        fn perforch_shown(&self) -> Option<String> { None }
    }
    fn perforch_joined(values: &[Option<String>]) -> String {
        if values.iter().any(|value| value.is_none()) { return "!".to_string(); }
        let text = values.iter().flatten().cloned().collect::<Vec<_>>().join(", ");
        if text.len() <= 10_000 { return format!("={}", text); }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&text, &mut hasher);
        format!("#{:016x}", std::hash::Hasher::finish(&hasher))
    }
    fn perforch_escaped(text: &str) -> String {
        text.replace('\\\\', "\\\\\\\\").replace('\\t', "\\\\t").replace('\\n', "\\\\n").replace('\\r', "\\\\r")
    }
    thread_local! { static PERFORCH_INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) }; }
    let perforch_log = std::env::var("PERFORCH_CALLS").unwrap_or_default();
    if perforch_log.is_empty() || PERFORCH_INSIDE.with(|inside| inside.replace(true)) {
        return @CALL@;
    }
    let perforch_arguments = perforch_joined(&[@SHOWN@]);
    let perforch_started = std::time::Instant::now();
    let perforch_result = @CALL@;
    let perforch_elapsed = perforch_started.elapsed().as_nanos();
    PERFORCH_INSIDE.with(|inside| inside.set(false));
    let perforch_outcome = perforch_joined(&[(&PerforchShown(&perforch_result)).perforch_shown()]);
    let perforch_test = std::thread::current().name().unwrap_or("(tests)").to_string();
    let perforch_line = format!(
        "{}\\t{}\\t{}\\t{}\\n",
        perforch_escaped(&perforch_test), perforch_elapsed,
        perforch_escaped(&perforch_arguments), perforch_escaped(&perforch_outcome)
    );
    if let Ok(mut log) = std::fs::OpenOptions::new().append(true).create(true).open(&perforch_log) {
        let _ = std::io::Write::write_all(&mut log, perforch_line.as_bytes());
    }
    perforch_result
}
"""


def timed_files(source: str, relative: str, function: str) -> dict[str, str] | None:
    parsed = parse(syntax_for("rust"), source)
    found = functions_named(parsed.root, parsed.syntax, function)
    if not found:
        return None
    node = found[0]
    name, parameters, body = (node.child_by_field_name(field) for field in ("name", "parameters", "body"))
    head = parsed.text(node.start_byte, name.start_byte) if name is not None else ""
    if name is None or parameters is None or body is None or "async" in head.split() or "const" in head.split():
        return None  # an async or const fn cannot be timed by a plain wrapper
    wrapper = _wrapper(parsed, node, name, parameters, body)
    src = parsed.src
    new_name = (RENAMED_PREFIX + function).encode()
    renamed = src[node.start_byte : name.start_byte] + new_name + src[name.end_byte : node.end_byte]
    timed = src[: node.start_byte] + renamed + b"\n\n" + wrapper.encode() + src[node.end_byte :]
    return {relative: timed.decode("utf-8")}


def _wrapper(parsed: Parsed, node: Node, name: Node, parameters: Node, body: Node) -> str:
    declared, passed = _parameters(parsed, parameters)
    function = parsed.node_text(name)
    between_name_and_parameters = parsed.text(name.end_byte, parameters.start_byte)  # generics
    after_parameters = parsed.text(parameters.end_byte, body.start_byte)  # -> return type, where clause
    owner = "Self::" if any(child.type == "self_parameter" for child in parameters.named_children) else ""
    call = f"{owner}{RENAMED_PREFIX}{function}({', '.join(passed)})"
    shown = ", ".join(f"(&PerforchShown(&{argument})).perforch_shown()" for argument in passed if argument != "self")
    signature = (
        parsed.text(node.start_byte, name.start_byte)
        + function
        + between_name_and_parameters
        + f"({', '.join(declared)})"
        + after_parameters
    )
    return signature + _BODY.replace("@CALL@", call).replace("@SHOWN@", shown)


def _parameters(parsed: Parsed, parameters: Node) -> tuple[list[str], list[str]]:
    """The wrapper's parameter declarations, with every pattern made a plain name, and the arguments it passes."""
    declared, passed = [], []
    for child in parameters.named_children:
        if child.type == "self_parameter":
            declared.append(parsed.node_text(child))
            passed.append("self")
        elif child.type == "parameter":
            argument = f"p{len(passed)}"
            declared.append(f"{argument}: {parsed.node_text(child.child_by_field_name('type'))}")
            passed.append(argument)
    return declared, passed
