"""Go: HumanEvalPack declarations as typed signatures, Python values as Go literals, and the timing
harness (harness.go.txt): arguments decoded by generated expressions, results encoded by reflection,
`interface{}` slots with their runtime type's tag (see efficiency/values.py)."""

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
    parenthesized,
    rendered_examples,
    split_top_level,
)
from .benchmark import split_imports

_SCALARS: dict[str, Type] = {
    "int": Int(64),
    "int64": Int(64),
    "int32": Int(32),
    "uint": Int(64, False),
    "uint64": Int(64, False),
    "byte": Int(8, False),
    "float64": Float(64),
    "float32": Float(32),
    "bool": Bool(),
    "string": Str(),
    "rune": Char(),
    "interface{}": Any(),
    "any": Any(),
}
_SIGNATURE = re.compile(r"^\s*func\s+(\w+)\s*\(")
_ARRAY = re.compile(r"^\[(\d+)\](.+)$")
_HARNESS_IMPORTS = ('"bufio"', '"fmt"', '"os"', '"reflect"', '"strconv"', '"strings"', '"time"')


def parse_signature(text: str) -> Signature:
    """`func Bf(planet1, planet2 string) []string` (HumanEvalPack's `signature` field) as a Signature."""
    match = _SIGNATURE.match(text)
    if not match:
        raise Unrenderable(f"cannot read the Go signature {text!r}")
    params_text, rest = parenthesized(text.strip(), match.end() - 1)
    return_text = rest.strip().rstrip("{").strip()
    if not return_text:
        raise Unrenderable("the function returns nothing: there is no result to check")
    if return_text.startswith("("):
        raise Unrenderable(f"the Go function returns several values {return_text}")
    return Signature(match.group(1), _params(params_text), parse_type(return_text), return_text)


def _params(text: str) -> tuple[Param, ...]:
    """`a, b int, c string`: a name without a type takes the type of the next one that has one."""
    params: list[Param] = []
    pending: list[str] = []
    for part in split_top_level(text):
        name, _, kind_text = part.strip().partition(" ")
        if not kind_text.strip():
            pending.append(name)
            continue
        kind = parse_type(kind_text)
        params += [Param(n, kind, kind_text.strip()) for n in [*pending, name]]
        pending = []
    if pending:
        raise Unrenderable(f"the Go parameters {pending} have no type")
    return tuple(params)


def parse_type(text: str) -> Type:
    text = text.strip().replace("interface {}", "interface{}")
    if text in _SCALARS:
        return _SCALARS[text]
    if text.startswith("[]"):
        return List(parse_type(text[2:]))
    array = _ARRAY.match(text)
    if array:
        return Tuple((parse_type(array.group(2)),) * int(array.group(1)))
    if text.startswith("map["):
        key, value = parenthesized(text, 3)
        return Map(parse_type(key), parse_type(value))
    raise Unrenderable(f"the Go type {text!r} has no value rendering")


def go_type(kind: Type) -> str:
    """The Go spelling of a type tree (Go types are canonical, so the tree says everything)."""
    match kind:
        case Int():
            names = {(64, True): "int", (32, True): "int32", (64, False): "uint", (8, False): "byte"}
            return names[(kind.bits, kind.signed)]
        case Float():
            return f"float{kind.bits}"
        case Bool():
            return "bool"
        case Str():
            return "string"
        case Char():
            return "rune"
        case List():
            return "[]" + go_type(kind.item)
        case Tuple():
            return f"[{len(kind.items)}]{go_type(kind.items[0])}"
        case Map():
            return f"map[{go_type(kind.key)}]{go_type(kind.value)}"
    return "interface{}"


# -- literals ------------------------------------------------------------------------------------------


def literal(text: str, value: object) -> str:
    """`value` as a Go expression of the declared type `text`."""
    return _literal(parse_type(text), value)


def _literal(kind: Type, value: object) -> str:
    match kind:
        case Bool():
            return "true" if checked_bool(value) else "false"
        case Int():
            return str(checked_int(kind, value, go_type(kind)))
        case Float():
            return _float(value)
        case Str():
            return f'"{escaped(checked_str(value), chr(92) + "U{:08x}")}"'
        case Char():
            if not (isinstance(value, str) and len(value) == 1):
                raise Unrenderable(f"{value!r} is not one character")
            return "'" + escaped(value, chr(92) + "U{:08x}").replace("'", "\\'") + "'"
        case List() | Tuple():
            return _sequence(kind, value)
        case Map():
            items = checked_dict(value).items()
            pairs = ", ".join(f"{_literal(kind.key, k)}: {_literal(kind.value, v)}" for k, v in items)
            return f"{go_type(kind)}{{{pairs}}}"
    return _any(value)


def _sequence(kind: List | Tuple, value: object) -> str:
    value = checked_items(value)
    if isinstance(kind, Tuple) and len(value) != len(kind.items):
        raise Unrenderable(f"{value!r} does not have {len(kind.items)} items")
    item = kind.item if isinstance(kind, List) else kind.items[0]
    return f"{go_type(kind)}{{" + ", ".join(_literal(item, v) for v in value) + "}"


def _any(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return _literal(Bool(), value)
    if isinstance(value, int):
        return _literal(Int(64), value)
    if isinstance(value, float):
        return f"float64({_float(value)})"
    if isinstance(value, str):
        return _literal(Str(), value)
    if isinstance(value, list | tuple):
        for python_type, kind in ((str, Str()), (int, Int(64)), (float, Float(64))):
            # A function returning interface{} builds a typed slice ([]string): equal only to one of those.
            if value and all(type(v) is python_type for v in value):
                return _literal(List(kind), value)
        return "[]interface{}{" + ", ".join(_any(v) for v in value) + "}"
    if isinstance(value, dict):
        return "map[interface{}]interface{}{" + ", ".join(f"{_any(k)}: {_any(v)}" for k, v in value.items()) + "}"
    raise Unrenderable(f"no Go value for {value!r}")


def _float(value: object) -> str:
    number = checked_number(value)
    if number != number:
        return "math.NaN()"
    if number in (float("inf"), float("-inf")):
        return f"math.Inf({-1 if number < 0 else 1})"
    return repr(number)


# -- visible tests -------------------------------------------------------------------------------------


def visible_test(signature: Signature, examples: list[tuple[tuple[object, ...], object]]) -> str:
    """A testify test asserting each example, or Unrenderable when none renders."""
    lines = rendered_examples(examples, lambda example, _: _example(signature, example))
    body = "".join(f"    {line}\n" for line in lines)
    return f"func TestExamples(t *testing.T) {{\n    assert := assert.New(t)\n{body}}}\n"


def _example(signature: Signature, example: Example) -> str:
    args, expected = example
    call = f"{signature.name}({arguments(signature, args, literal)})"
    want = _literal(signature.returns, expected)
    if isinstance(signature.returns, Float):
        return f"assert.InDelta({want}, {call}, 1e-4)"
    if isinstance(signature.returns, List | Tuple) and go_type(signature.returns).endswith("float64"):
        # Arrays ([2]float64) are sliced, which needs them in variables.
        return f"if got, want := {call}, {want}; true {{ assert.InDeltaSlice(want[:], got[:], 1e-4) }}"
    return f"assert.Equal({want}, {call})"


# -- the timing harness --------------------------------------------------------------------------------


def harness_source(signature: Signature, source: str) -> str:
    """One `package main` file: the candidate's imports with the harness's, its code, the harness."""
    runtime = (resources.files(__package__) / "harness.go.txt").read_text()
    imports, code = split_imports(source)
    block = "".join(f"    {spec}\n" for spec in dict.fromkeys([*imports, *_HARNESS_IMPORTS]))
    return f"package main\n\nimport (\n{block})\n{code.strip()}\n\n{_call_function(signature)}\n\n{runtime}"


def _reader(kind: Type) -> str:
    match kind:
        case Int():
            return "in.Int()" if go_type(kind) == "int" else f"{go_type(kind)}(in.Int())"
        case Float():
            return "in.Float()" if kind.bits == 64 else "float32(in.Float())"
        case Bool():
            return "in.Bool()"
        case Str():
            return "in.Str()"
        case Char():
            return "in.Rune()"
        case List():
            item = go_type(kind.item)
            return f"perforchSlice(in, func() {item} {{ return {_reader(kind.item)} }})"
        case Tuple():
            return f"{go_type(kind)}{{" + ", ".join(_reader(item) for item in kind.items) + "}"
        case Map():
            key, value = go_type(kind.key), go_type(kind.value)
            readers = (
                f"func() {key} {{ return {_reader(kind.key)} }}, func() {value} {{ return {_reader(kind.value)} }}"
            )
            return f"perforchMap(in, {readers})"
    return "in.Any()"


def _call_function(signature: Signature) -> str:
    takes = [f"\ta{n} := {_reader(p.kind)}" for n, p in enumerate(signature.params)]
    args = ", ".join(f"a{n}" for n in range(len(signature.params)))
    return "\n".join(
        [
            "func perforchCall(in *perforchInput, out *[]byte, run bool) int64 {",
            *takes,
            "\tif !run {",
            "\t\treturn 0",
            "\t}",
            "\tstarted := time.Now()",
            f"\tresult := {signature.name}({args})",
            "\tnanos := time.Since(started).Nanoseconds()",
            "\tperforchSink = result",
            "\tif out != nil {",
            *_writer(signature.returns, "result", 2),
            "\t}",
            "\treturn nanos",
            "}",
        ]
    )


def _writer(kind: Type, value: str, depth: int) -> list[str]:
    """Go statements that append `value` (of type `kind`) to `out`."""
    tab = "\t" * depth
    match kind:
        case Int():
            return [f"{tab}perforchToken(out, strconv.FormatInt(int64({value}), 10))"]
        case Float():
            return [f"{tab}perforchToken(out, strconv.FormatFloat(float64({value}), 'g', -1, {kind.bits}))"]
        case Bool():
            return [f"{tab}perforchBool(out, {value})"]
        case Str():
            return [f"{tab}perforchStr(out, {value})"]
        case Char():
            return [f"{tab}perforchStr(out, string({value}))"]
        case List() | Tuple():
            item = kind.item if isinstance(kind, List) else kind.items[0]
            count = [f"{tab}perforchToken(out, strconv.Itoa(len({value})))"] if isinstance(kind, List) else []
            loop = f"{tab}for _, e{depth} := range {value} {{"
            return [*count, loop, *_writer(item, f"e{depth}", depth + 1), f"{tab}}}"]
        case Map():
            loop = f"{tab}for k{depth}, v{depth} := range {value} {{"
            body = _writer(kind.key, f"k{depth}", depth + 1) + _writer(kind.value, f"v{depth}", depth + 1)
            return [f"{tab}perforchToken(out, strconv.Itoa(len({value})))", loop, *body, f"{tab}}}"]
    return [f"{tab}perforchPutAny(out, reflect.ValueOf(&{value}).Elem())"]
