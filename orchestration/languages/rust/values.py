"""Rust: HumanEvalPack declarations as typed signatures, Python values as Rust literals, and the timing
harness. The harness decodes with a `Take` trait and encodes with a `Put` trait (one impl per type), so
only the call itself is generated; the candidate keeps its own `fn main(){}` (the prompt has one) because
the harness's entry point is exported as `main` under `#![no_main]`."""

from __future__ import annotations

import re
from importlib import resources

from ...efficiency.values import (
    Any,
    Bool,
    Char,
    Example,
    Float,
    Int,
    List,
    Map,
    Optional,
    Param,
    Signature,
    Str,
    Tuple,
    Type,
    Unrenderable,
    arguments,
    checked_bool,
    checked_dict,
    checked_int,
    checked_items,
    checked_number,
    checked_str,
    escaped,
    generic,
    parenthesized,
    rendered_examples,
    split_top_level,
)

_SCALARS: dict[str, Type] = {
    "i8": Int(8),
    "i16": Int(16),
    "i32": Int(32),
    "i64": Int(64),
    "isize": Int(64),
    "u8": Int(8, False),
    "u16": Int(16, False),
    "u32": Int(32, False),
    "u64": Int(64, False),
    "usize": Int(64, False),
    "f32": Float(32),
    "f64": Float(64),
    "bool": Bool(),
    "char": Char(),
    "String": Str(),
    "str": Str(),
}
_GENERICS = {"Vec": List, "VecDeque": List, "Option": Optional}
_MAPS = ("HashMap", "BTreeMap")
_REFERENCE = re.compile(r"^&\s*('\w+\s+)?(mut\s+)?")
_SIGNATURE = re.compile(r"^\s*(?:pub\s+)?(?:fn\s+)?(\w+)\s*\(")


def parse_signature(text: str) -> Signature:
    """`name(a: Vec<i32>, b: &str) -> (i32, i32)` (HumanEvalPack's `signature` field) as a Signature."""
    match = _SIGNATURE.match(text)
    if not match:
        raise Unrenderable(f"cannot read the Rust signature {text!r}")
    name = match.group(1)
    params_text, rest = parenthesized(text, match.end() - 1)
    returns = rest.strip().removeprefix("->").strip().rstrip("{").strip()
    params = []
    for part in split_top_level(params_text):
        param_name, _, kind = part.partition(":")
        param_name = param_name.replace("mut ", "").strip()
        params.append(Param(param_name, parse_type(kind), kind.strip()))
    return_text = (returns or "()").strip()
    return Signature(name, tuple(params), parse_type(return_text), return_text)


def parse_type(text: str) -> Type:
    text = _REFERENCE.sub("", text.strip())
    if text in _SCALARS:
        return _SCALARS[text]
    if text.startswith("(") and text.endswith(")"):
        items = split_top_level(text[1:-1])
        if not items:
            raise Unrenderable("the function returns nothing: there is no result to check")
        return Tuple(tuple(parse_type(item) for item in items))
    if text.replace(" ", "") in ("Box<dynAny>", "Box<dynstd::any::Any>"):
        return Any()
    head, args = generic(text)
    if head in _GENERICS and len(args) == 1:
        return _GENERICS[head](parse_type(args[0]))
    if head in _MAPS and len(args) == 2:
        return Map(parse_type(args[0]), parse_type(args[1]))
    raise Unrenderable(f"the Rust type {text!r} has no value rendering")


# -- literals ------------------------------------------------------------------------------------------


def literal(text: str, value: object) -> str:
    """`value` as a Rust expression of the declared type `text` (`&str` -> "a", `String` -> String::from)."""
    text = text.strip()
    borrowed = bool(_REFERENCE.match(text))
    bare = _REFERENCE.sub("", text)
    kind = parse_type(bare)
    if isinstance(kind, Str):
        quoted = f'"{escaped(checked_str(value), chr(92) + "u{{{:x}}}")}"'
        return quoted if bare == "str" else f"String::from({quoted})"
    body = _composite(bare, kind, value)
    return f"&{body}" if borrowed else body


def _composite(text: str, kind: Type, value: object) -> str:
    match kind:
        case Bool():
            return "true" if checked_bool(value) else "false"
        case Int():
            return _int(kind, value, text)
        case Float():
            return _float(value, text)
        case Char():
            if not (isinstance(value, str) and len(value) == 1):
                raise Unrenderable(f"{value!r} is not one character")
            return "'" + escaped(value, chr(92) + "u{{{:x}}}").replace("'", "\\'") + "'"
        case Optional():
            inner = generic(text)[1][0]
            return "None" if value is None else f"Some({literal(inner, value)})"
        case List():
            inner = generic(text)[1][0]
            items = checked_items(value)
            if not items:  # `vec![]` alone leaves its type to inference, which an assert_eq! cannot give
                return f"Vec::<{inner}>::new()"
            return "vec![" + ", ".join(literal(inner, item) for item in items) + "]"
        case Tuple():
            texts = split_top_level(text[1:-1])
            items = checked_items(value)
            if len(items) != len(texts):
                raise Unrenderable(f"{value!r} does not have {len(texts)} items")
            return "(" + ", ".join(literal(t, v) for t, v in zip(texts, items, strict=True)) + ",)"
        case Map():
            key, item = generic(text)[1]
            pairs = ", ".join(f"({literal(key, k)}, {literal(item, v)})" for k, v in checked_dict(value).items())
            return f"std::collections::{generic(text)[0]}::from([{pairs}])"
        case Any():
            return _any(value)
    raise Unrenderable(f"no Rust literal for {text}")


def _any(value: object) -> str:
    if isinstance(value, bool):
        return f"Box::new({'true' if value else 'false'}) as Box<dyn std::any::Any>"
    if isinstance(value, int):
        suffix = "i32" if Int(32).fits(value) else "i64"
        return f"Box::new({value}{suffix}) as Box<dyn std::any::Any>"
    if isinstance(value, float):
        return f"Box::new({_float(value, 'f64')}) as Box<dyn std::any::Any>"
    if isinstance(value, str):
        return f"Box::new({literal('String', value)}) as Box<dyn std::any::Any>"
    if isinstance(value, list | tuple | dict):
        items = ", ".join(_any(item) for item in value)
        return f"Box::new(vec![{items}] as Vec<Box<dyn std::any::Any>>) as Box<dyn std::any::Any>"
    raise Unrenderable(f"no Rust value for {value!r} as a Box<dyn Any>")


def _int(kind: Int, value: object, text: str) -> str:
    number = checked_int(kind, value, text)
    return f"{number}{text}" if number < 0 else f"{number}_{text}"


def _float(value: object, text: str) -> str:
    number = checked_number(value)
    if number != number:
        return f"{text}::NAN"
    if number in (float("inf"), float("-inf")):
        return f"{'-' if number < 0 else ''}{text}::INFINITY"
    return f"({number!r}_{text})" if "e" not in repr(number) else f"({number!r} as {text})"


# -- visible tests -------------------------------------------------------------------------------------


def visible_test(signature: Signature, examples: list[tuple[tuple[object, ...], object]]) -> str:
    """A `#[cfg(test)]` module with one #[test] per example, or Unrenderable when none renders."""
    body = "\n".join(rendered_examples(examples, lambda example, number: _example(signature, example, number)))
    return f"#[cfg(test)]\nmod perforch_examples {{\n    #[allow(unused_imports)]\n    use super::*;\n{body}}}\n"


def _example(signature: Signature, example: Example, number: int) -> str:
    args, expected = example
    call = f"{signature.name}({arguments(signature, args, literal)})"
    want = literal(signature.return_text, expected)
    check = _check(signature.returns, want)
    return f"    #[test]\n    fn example_{number}() {{\n        let got = {call};\n        {check}\n    }}\n"


def _check(kind: Type, want: str) -> str:
    if isinstance(kind, Float):
        close = "(got - want).abs() <= 1e-4 * want.abs().max(1.0)"
        return f'let want = {want};\n        assert!({close}, "got {{:?}}, want {{:?}}", got, want);'
    if isinstance(kind, List) and isinstance(kind.item, Float):
        close = "(g - w).abs() <= 1e-4 * w.abs().max(1.0)"
        return (
            f"let want = {want};\n        assert!(got.len() == want.len() && got.iter().zip(want.iter())"
            f'.all(|(g, w)| {close}), "got {{:?}}, want {{:?}}", got, want);'
        )
    if isinstance(kind, Tuple) and all(isinstance(item, Float) for item in kind.items):
        parts = " && ".join(f"(got.{i} - want.{i}).abs() <= 1e-4" for i in range(len(kind.items)))
        return f'let want = {want};\n        assert!({parts}, "got {{:?}}, want {{:?}}", got, want);'
    return f"assert_eq!(got, {want});"


# -- the timing harness --------------------------------------------------------------------------------


def harness_source(signature: Signature, source: str) -> str:
    """The candidate's file with the harness appended: `#![no_main]` first, so the candidate's own
    `fn main` (HumanEvalPack prompts have `fn main(){}`) is only an unused function."""
    runtime = (resources.files(__package__) / "harness.rs").read_text()
    return f"#![no_main]\n{source}\n\n{_call_function(signature)}\n{runtime}"


def _call_function(signature: Signature) -> str:
    takes = [
        f"    let a{n}: {owned_type(p.text)} = perforch_pvs::Take::take(input);" for n, p in enumerate(signature.params)
    ]
    views = [f"    let v{n} = {_view(p.text, f'a{n}')};" for n, p in enumerate(signature.params)]
    args = ", ".join(f"std::hint::black_box(v{n})" for n in range(len(signature.params)))
    return "\n".join(
        [
            "fn perforch_call(input: &mut perforch_pvs::Input, out: Option<&mut Vec<u8>>, run: bool) -> u128 {",
            *takes,
            "    if !run { return 0; }",
            *views,
            "    let started = std::time::Instant::now();",
            f"    let result = std::hint::black_box({signature.name}({args}));",
            "    let nanos = started.elapsed().as_nanos();",
            "    if let Some(out) = out { perforch_pvs::Put::put(&result, out); }",
            "    nanos",
            "}",
        ]
    )


def owned_type(text: str) -> str:
    """The owned type the harness decodes into: `&str` -> String, `&Vec<f64>` -> Vec<f64>."""
    text = re.sub(r"&\s*('\w+\s+)?(mut\s+)?str\b", "String", text.strip())
    text = _REFERENCE.sub("", text)
    text = re.sub(r"&\s*('\w+\s+)?(mut\s+)?", "", text)
    return re.sub(r"(?<!::)\b(HashMap|HashSet|BTreeMap|VecDeque)\b", r"std::collections::\1", text)


def _view(text: str, name: str) -> str:
    """An expression of the declared type `text` made from the owned value `name` (outside the timing)."""
    bare = text.strip()
    if "&" not in bare:
        return name
    if _REFERENCE.match(bare):
        inner = _REFERENCE.sub("", bare)
        return f"{name}.as_str()" if inner == "str" else f"&{name}"
    head, args = generic(bare)
    if head in ("Vec", "VecDeque") and args[0].replace(" ", "") == "&str":
        return f"{name}.iter().map(|s| s.as_str()).collect::<{head}<&str>>()"
    if head in _MAPS and all(arg.replace(" ", "") == "&str" for arg in args):
        return f"{name}.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<std::collections::{head}<&str, &str>>()"
    raise Unrenderable(f"the Rust parameter type {text!r} borrows in a way the harness cannot build")
