"""C++: HumanEvalPack declarations as typed signatures, Python values as C++ literals, and the timing
harness. The harness decodes and encodes with overloads of `take` and `put` (harness.cpp), so only the
call itself is generated; arguments are moved into the call, which then copies nothing."""

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
    "int": Int(32),
    "long": Int(64),
    "long long": Int(64),
    "long long int": Int(64),
    "unsigned": Int(32, False),
    "unsigned int": Int(32, False),
    "size_t": Int(64, False),
    "float": Float(32),
    "double": Float(64),
    "bool": Bool(),
    "char": Char(),
    "string": Str(),
    "std::string": Str(),
    "boost::any": Any(),
    "list_any": List(Any()),  # HumanEvalPack's typedef std::list<boost::any>
}
_GENERICS = {"vector": List, "list": List, "set": List}
_NAME = re.compile(r"(\w+)\s*$")
_SIGNATURE = re.compile(r"^(.*?)\b(\w+)\s*\(", re.DOTALL)


def parse_signature(text: str) -> Signature:
    """`vector<int> f(vector<int> l, int k)` (HumanEvalPack's `signature` field) as a Signature."""
    match = _SIGNATURE.match(text.strip())
    if not match or not match.group(1).strip():
        raise Unrenderable(f"cannot read the C++ signature {text!r}")
    return_text, name = match.group(1).strip(), match.group(2)
    params_text, _ = parenthesized(text.strip(), match.end() - 1)
    params = []
    for part in split_top_level(params_text):
        found = _NAME.search(part)
        if not found or not part[: found.start()].strip():
            raise Unrenderable(f"cannot read the C++ parameter {part!r}")
        kind_text = part[: found.start()].strip()
        params.append(Param(found.group(1), parse_type(kind_text), kind_text))
    return Signature(name, tuple(params), parse_type(return_text), return_text)


def bare_type(text: str) -> str:
    """The value type of a declared parameter: `const vector<int>&` -> `vector<int>`."""
    text = re.sub(r"^\s*const\s+", "", text.strip())
    return re.sub(r"\s*&+\s*$", "", text).replace("std::", "").strip()


def parse_type(text: str) -> Type:
    bare = re.sub(r"\s+", " ", bare_type(text))
    if bare in _SCALARS:
        return _SCALARS[bare]
    head, args = generic(bare)
    if head in _GENERICS and len(args) == 1:
        return _GENERICS[head](parse_type(args[0]))
    if head in ("map", "unordered_map") and len(args) == 2:
        return Map(parse_type(args[0]), parse_type(args[1]))
    if head == "pair" and len(args) == 2:
        return Tuple((parse_type(args[0]), parse_type(args[1])))
    if head == "optional" and len(args) == 1:
        return Optional(parse_type(args[0]))
    if head == "void":
        raise Unrenderable("the function returns nothing: there is no result to check")
    raise Unrenderable(f"the C++ type {text!r} has no value rendering")


# -- literals ------------------------------------------------------------------------------------------


def literal(text: str, value: object) -> str:
    """`value` as a C++ expression of the declared type `text`."""
    bare = re.sub(r"\s+", " ", bare_type(text))
    kind = parse_type(bare)
    match kind:
        case Bool():
            return "true" if checked_bool(value) else "false"
        case Int():
            return _int(kind, value)
        case Float():
            return _float(value, kind)
        case Str():
            return f'string("{_escaped(checked_str(value))}")'
        case Char():
            if not (isinstance(value, str) and len(value) == 1 and value.isascii()):
                raise Unrenderable(f"{value!r} is not one ASCII character")
            return "'" + _escaped(value).replace("'", "\\'") + "'"
        case Any():
            return _any(value)
    return _composite(bare, kind, value)


def _composite(bare: str, kind: Type, value: object) -> str:
    if bare == "list_any":
        return "list_any{" + ", ".join(_any(item) for item in checked_items(value)) + "}"
    head, args = generic(bare)
    if isinstance(kind, Map):
        pairs = ", ".join(f"{{{literal(args[0], k)}, {literal(args[1], v)}}}" for k, v in checked_dict(value).items())
        return f"{bare}{{{pairs}}}"
    if isinstance(kind, Tuple):
        items = checked_items(value)
        if len(items) != 2:
            raise Unrenderable(f"{value!r} is not a pair")
        return f"{bare}({literal(args[0], items[0])}, {literal(args[1], items[1])})"
    if isinstance(kind, Optional):
        return f"{bare}()" if value is None else f"{bare}({literal(args[0], value)})"
    return f"{bare}{{" + ", ".join(literal(args[0], item) for item in checked_items(value)) + "}"


def _any(value: object) -> str:
    if isinstance(value, bool):
        return f"boost::any({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"boost::any({_int(Int(32), value)})" if Int(32).fits(value) else f"boost::any({value}LL)"
    if isinstance(value, float):
        return f"boost::any({_float(value, Float(64))})"
    if isinstance(value, str):
        return f"boost::any({literal('string', value)})"
    raise Unrenderable(f"no C++ boost::any value for {value!r}")


def _escaped(text: str) -> str:
    if not text.isascii():
        raise Unrenderable(f"{text!r} is not ASCII (a C++ string holds bytes)")
    return escaped(text, "\\x{:02x}")


def _int(kind: Int, value: object) -> str:
    number = checked_int(kind, value, f"a {kind.bits}-bit integer")
    if number == -(2**31) and kind.bits == 32:
        return "(-2147483647 - 1)"
    return f"{number}LL" if kind.bits == 64 else str(number)


def _float(value: object, kind: Float) -> str:
    number = checked_number(value)
    if number != number:
        return "NAN"
    if number in (float("inf"), float("-inf")):
        return "-INFINITY" if number < 0 else "INFINITY"
    return repr(number) + ("f" if kind.bits == 32 else "")


# -- visible tests -------------------------------------------------------------------------------------

_CLOSE = """template <class T> bool perforch_close(T a, T b) {
    return fabs((double)a - (double)b) <= 1e-4 * fmax(1.0, fabs((double)b));
}
template <class T> bool perforch_close(const vector<T>& a, const vector<T>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) if (!perforch_close(a[i], b[i])) return false;
    return true;
}
"""


def visible_test(signature: Signature, examples: list[tuple[tuple[object, ...], object]]) -> str:
    """A `main` that asserts each example, or Unrenderable when none renders."""
    lines = rendered_examples(examples, lambda example, _: _example(signature, example))
    body = "".join(f"    assert (({line}));\n" for line in lines)
    return f"#undef NDEBUG\n#include<assert.h>\n#include<math.h>\n{_CLOSE}int main(){{\n{body}}}\n"


def _example(signature: Signature, example: Example) -> str:
    args, expected = example
    call = f"{signature.name}({arguments(signature, args, literal)})"
    kind = signature.returns
    if isinstance(kind, Any):
        raise Unrenderable("a boost::any result has no == to compare it with")
    want = literal(signature.return_text, expected)
    if isinstance(kind, Float) or (isinstance(kind, List) and isinstance(kind.item, Float)):
        return f"perforch_close({call}, {want})"
    return f"{call} == {want}"


# -- the timing harness --------------------------------------------------------------------------------

_ANY = """void take(Input& in, boost::any& v);
inline void take(Input& in, boost::any& v) {
    std::string t = in.token(); char tag = t[0]; std::string rest = t.substr(1);
    if (tag == 'i') { long long x = std::stoll(rest); if (x >= INT_MIN && x <= INT_MAX) v = (int)x; else v = x; }
    else if (tag == 'f') v = strtod(rest.c_str(), nullptr);
    else if (tag == 'b') v = rest == "1";
    else if (tag == 's') v = in.text(std::stoull(rest));
    else if (tag == 'n') v = boost::any();
    else if (tag == 'l' || tag == 't' || tag == 'S') {
        std::list<boost::any> items(std::stoull(rest));
        for (auto& item : items) take(in, item);
        v = items;
    } else { fprintf(stderr, "perforch harness: unknown tag %s\\n", t.c_str()); exit(3); }
}"""


def harness_source(signature: Signature, source: str) -> str:
    """The candidate's file, the harness runtime, and the generated perforch_call."""
    runtime = (resources.files(__package__) / "harness.cpp").read_text()
    uses_any = any(_has_any(param.kind) for param in signature.params)
    runtime = runtime.replace("PERFORCH_ANY_DECLARATIONS", _ANY if uses_any else "")
    return f"{source}\n\n{runtime}\n{_call_function(signature)}"


def _has_any(kind: Type) -> bool:
    match kind:
        case Any():
            return True
        case List() | Optional():
            return _has_any(kind.item)
        case Map():
            return _has_any(kind.key) or _has_any(kind.value)
        case Tuple():
            return any(_has_any(item) for item in kind.items)
    return False


def _call_function(signature: Signature) -> str:
    takes = [f"    {bare_type(p.text)} a{n}; perforch::take(in, a{n});" for n, p in enumerate(signature.params)]
    args = ", ".join(f"std::move(a{n})" for n in range(len(signature.params)))
    if isinstance(signature.returns, Any):
        raise Unrenderable("a boost::any result has no encoding")
    return "\n".join(
        [
            "long long perforch_call(perforch::Input& in, std::string* out, bool run) {",
            *takes,
            "    if (!run) return 0;",
            "    auto started = std::chrono::steady_clock::now();",
            f"    auto result = {signature.name}({args});",
            "    perforch::consume(result);",
            "    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(",
            "        std::chrono::steady_clock::now() - started).count();",
            "    if (out) perforch::put(*out, result);",
            "    return nanos;",
            "}",
        ]
    )
