"""Java: HumanEvalPack declarations as typed signatures, Python values as Java literals, and the timing
harness (Harness.java.txt: a `public class Main` beside the candidate's `class Solution`, reading and
writing values by a type descriptor, since generics are erased at run time)."""

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
    Type,
    Unrenderable,
    arguments,
    checked_bool,
    checked_dict,
    checked_int,
    checked_items,
    checked_number,
    checked_str,
    generic,
    parenthesized,
    rendered_examples,
    split_top_level,
)

_SCALARS: dict[str, Type] = {
    "int": Int(32),
    "Integer": Int(32),
    "long": Int(64),
    "Long": Int(64),
    "double": Float(64),
    "Double": Float(64),
    "float": Float(32),
    "Float": Float(32),
    "boolean": Bool(),
    "Boolean": Bool(),
    "char": Char(),
    "Character": Char(),
    "String": Str(),
    "Object": Any(),
}
_BOXED = {
    "int": "Integer",
    "long": "Long",
    "double": "Double",
    "float": "Float",
    "boolean": "Boolean",
    "char": "Character",
}
_LISTS = ("List", "ArrayList", "LinkedList", "Collection")
_MAPS = ("Map", "HashMap", "TreeMap")
_MODIFIERS = re.compile(r"^\s*((public|private|protected|static|final|synchronized)\s+)*")
_SIGNATURE = re.compile(r"^(.*?)\b(\w+)\s*\(", re.DOTALL)
_NAME = re.compile(r"(\w+)\s*$")


def parse_signature(text: str) -> Signature:
    """`public List<Integer> f(List<Integer> l, int k) throws X` (HumanEvalPack's `signature`) as a Signature."""
    text = _MODIFIERS.sub("", text.strip())
    match = _SIGNATURE.match(text)
    if not match or not match.group(1).strip():
        raise Unrenderable(f"cannot read the Java signature {text!r}")
    return_text, name = match.group(1).strip(), match.group(2)
    params_text, _ = parenthesized(text, match.end() - 1)
    params = []
    for part in split_top_level(params_text):
        found = _NAME.search(part)
        kind_text = re.sub(r"^\s*final\s+", "", part[: found.start()]).strip() if found else ""
        if not found or not kind_text:
            raise Unrenderable(f"cannot read the Java parameter {part!r}")
        params.append(Param(found.group(1), parse_type(kind_text), kind_text))
    return Signature(name, tuple(params), parse_type(return_text), return_text)


def parse_type(text: str) -> Type:
    text = text.strip()
    if text in _SCALARS:
        return _SCALARS[text]
    head, args = generic(text)
    if head in _LISTS and len(args) == 1:
        return List(parse_type(args[0]))
    if head in _MAPS and len(args) == 2:
        return Map(parse_type(args[0]), parse_type(args[1]))
    if head == "Optional" and len(args) == 1:
        return Optional(parse_type(args[0]))
    if text == "void":
        raise Unrenderable("the method returns nothing: there is no result to check")
    raise Unrenderable(f"the Java type {text!r} has no value rendering")


def boxed(text: str) -> str:
    return _BOXED.get(text.strip(), text.strip())


# -- literals ------------------------------------------------------------------------------------------


def literal(text: str, value: object) -> str:
    """`value` as a Java expression of the declared type `text`."""
    text = text.strip()
    kind = parse_type(text)
    match kind:
        case Bool():
            return "true" if checked_bool(value) else "false"
        case Int():
            number = checked_int(kind, value, f"a Java {text}")
            return f"{number}L" if kind.bits == 64 else str(number)
        case Float():
            return _float(value, kind)
        case Str():
            return f'"{_escaped(checked_str(value))}"'
        case Char():
            if not (isinstance(value, str) and len(value) == 1 and ord(value) < 0x10000):
                raise Unrenderable(f"{value!r} is not one Java char")
            return "'" + _escaped(value).replace("'", "\\'") + "'"
        case Any():
            return _any(value)
    return _composite(text, kind, value)


def _composite(text: str, kind: Type, value: object) -> str:
    args = [boxed(arg) for arg in generic(text)[1]]
    if isinstance(kind, List):
        items = ", ".join(literal(args[0], item) for item in checked_items(value))
        return f"new ArrayList<{args[0]}>(Arrays.<{args[0]}>asList({items}))"
    if isinstance(kind, Map):
        pairs = checked_dict(value).items()
        entries = ", ".join(f"Map.entry({literal(args[0], k)}, {literal(args[1], v)})" for k, v in pairs)
        return f"new HashMap<{args[0]}, {args[1]}>(Map.<{args[0]}, {args[1]}>ofEntries({entries}))"
    if isinstance(kind, Optional):
        return f"Optional.<{args[0]}>empty()" if value is None else f"Optional.of({literal(args[0], value)})"
    raise Unrenderable(f"no Java literal for {text}")


def _any(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return literal("boolean", value)
    if isinstance(value, int):
        return literal("int", value) if Int(32).fits(value) else literal("long", value)
    if isinstance(value, float):
        return literal("double", value)
    if isinstance(value, str):
        return literal("String", value)
    if isinstance(value, list | tuple):
        return "Arrays.<Object>asList(" + ", ".join(_any(item) for item in value) + ")"
    raise Unrenderable(f"no Java Object value for {value!r}")


def _escaped(text: str) -> str:
    out = []
    for unit in text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass"):
        code = ord(unit)
        if unit in '"\\':
            out.append("\\" + unit)
        elif " " <= unit <= "~":
            out.append(unit)
        elif code > 0xFFFF:
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            out.append(f"\\u{high:04x}\\u{low:04x}")
        else:
            out.append(f"\\u{code:04x}" if unit not in "\n\r" else ("\\n" if unit == "\n" else "\\r"))
    return "".join(out)


def _float(value: object, kind: Float) -> str:
    number, name = checked_number(value), "Float" if kind.bits == 32 else "Double"
    if number != number:
        return f"{name}.NaN"
    if number in (float("inf"), float("-inf")):
        return f"{name}.{'NEGATIVE' if number < 0 else 'POSITIVE'}_INFINITY"
    return repr(number) + ("f" if kind.bits == 32 else "")


# -- visible tests -------------------------------------------------------------------------------------

_CLOSE = """    static boolean perforchClose(Object got, Object want) {
        if (got instanceof Number && want instanceof Number) {
            double g = ((Number) got).doubleValue(), w = ((Number) want).doubleValue();
            return Math.abs(g - w) <= 1e-4 * Math.max(1.0, Math.abs(w));
        }
        if (got instanceof List && want instanceof List) {
            List<?> g = (List<?>) got, w = (List<?>) want;
            if (g.size() != w.size()) return false;
            for (int i = 0; i < g.size(); i++) if (!perforchClose(g.get(i), w.get(i))) return false;
            return true;
        }
        return Objects.equals(got, want);
    }
"""


def visible_test(signature: Signature, examples: list[tuple[tuple[object, ...], object]]) -> str:
    """A `public class Main` whose main checks each example, or Unrenderable when none renders."""
    body = "".join(rendered_examples(examples, lambda example, number: _example(signature, example, number)))
    head = "    public static void main(String[] args) throws Exception {\n        Solution s = new Solution();\n"
    main = f"{head}{body}    }}\n"
    return f"public class Main {{\n{_CLOSE}{main}}}\n"


def _example(signature: Signature, example: Example, number: int) -> str:
    args, expected = example
    rendered = arguments(signature, args, literal)
    call = f"s.{signature.name}({rendered})"
    want = literal(signature.return_text, expected)
    same = "perforchClose" if _has_float(signature.returns) else "Objects.equals"
    message = (
        f'"example {number}: {signature.name}(" + {_java_string(rendered)} + ") returned " + got + ", expected " + want'
    )
    return (
        f"        {{\n            Object got = {call};\n            Object want = {want};\n"
        f"            if (!{same}(got, want)) throw new AssertionError({message});\n        }}\n"
    )


def _java_string(text: str) -> str:
    return '"' + _escaped(text) + '"'


def _has_float(kind: Type) -> bool:
    return isinstance(kind, Float) or (isinstance(kind, List) and isinstance(kind.item, Float))


# -- the timing harness --------------------------------------------------------------------------------


def descriptor(kind: Type) -> str:
    """The harness's type descriptor (see Harness.java.txt)."""
    match kind:
        case Int():
            return "l" if kind.bits == 64 else "i"
        case Float():
            return "f" if kind.bits == 32 else "d"
        case Bool():
            return "b"
        case Str():
            return "s"
        case Char():
            return "c"
        case List():
            return "L" + descriptor(kind.item)
        case Map():
            return "M" + descriptor(kind.key) + descriptor(kind.value)
        case Optional():
            return "O" + descriptor(kind.item)
        case Any():
            return "A"
    raise Unrenderable(f"no Java harness encoding for {kind}")


def harness_source(signature: Signature, source: str) -> str:
    """Main.java: the candidate's file, then the harness's `public class Main`."""
    runtime = (resources.files(__package__) / "Harness.java.txt").read_text()
    return f"{source}\n\n{runtime.replace('PERFORCH_CALL', _call_method(signature))}"


def _call_method(signature: Signature) -> str:
    takes = [
        f'        {p.text} a{n} = ({boxed(p.text)}) in.read("{descriptor(p.kind)}");'
        for n, p in enumerate(signature.params)
    ]
    args = ", ".join(f"a{n}" for n in range(len(signature.params)))
    return "\n".join(
        [
            '    @SuppressWarnings("unchecked")',
            "    static long call(Input in, Output out, boolean run) throws Exception {",
            *takes,
            "        if (!run) return 0;",
            "        Solution solution = new Solution();",
            "        long started = System.nanoTime();",
            f"        {signature.return_text} result = solution.{signature.name}({args});",
            "        long nanos = System.nanoTime() - started;",
            "        sink = result;",
            f'        if (out != null) out.write(result, "{descriptor(signature.returns)}");',
            "        return nanos;",
            "    }",
        ]
    )
