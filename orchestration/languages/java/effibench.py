"""EffiBench-X programs in Java, run as class Main: io answers with their public class renamed Main (as
upstream does for CodeChef's `Codechef`); functional ones inside the problem's runner after upstream's
import prelude, the answer's top-level types made non-public (the runner's Main is the public class).
Imports may only open a file, so those of the answer and runner move to the top."""

from __future__ import annotations

import re

PRELUDE = (
    "import java.io.*;\nimport java.math.*;\nimport java.text.*;\nimport java.util.*;\n"
    "import java.util.stream.*;\nimport java.util.function.*;\n"
)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+[\w.*\s]+;[ \t]*$", re.MULTILINE)
_PUBLIC_CLASS = re.compile(r"public\s+(?:final\s+)?class\s+(\w+)")
_CODECHEF = re.compile(r"\bclass\s+Codechef\b")  # CodeChef's template class, not always public
# A top-level `public` type in a functional answer (`public class Solution`): the runner's Main is the file's
# one public class, and Java allows no second, so the answer's lose the modifier.
_PUBLIC_TOP_LEVEL = re.compile(
    r"^public\s+(?=(?:(?:final|abstract|sealed)\s+)*(?:class|interface|enum|record)\b)",
    re.M,
)


def program(kind: str, solution: str, runner: str | None, marker: str) -> str:
    if kind == "io":
        return _main_class(solution)
    imports = _IMPORT.findall(solution) + _IMPORT.findall(runner or "")
    answer = _PUBLIC_TOP_LEVEL.sub("", _IMPORT.sub("", solution))
    body = _IMPORT.sub("", runner or marker).replace(marker, answer)
    header = "".join(dict.fromkeys(line.strip() + "\n" for line in imports))
    return PRELUDE + header + "\n" + _main_class(body)


def _main_class(code: str) -> str:
    found = _PUBLIC_CLASS.search(code)
    name = found.group(1) if found else "Codechef" if _CODECHEF.search(code) else "Main"
    return code if name == "Main" else re.sub(rf"\b{re.escape(name)}\b", "Main", code)
