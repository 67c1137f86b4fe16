"""The registry of languages: the one table of what PerfOrch supports, and lookups by name and by file.

Everything that differs between languages lives in that language's package (see base.py for what a
package holds); the rest of the engine asks here and never names a language itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..errors import PerfOrchError
from . import cpp, go, java, python, rust
from .base import LanguageSpec

# The table, in the order languages are listed to users (profiles, rankings, `--languages`).
SPECS: Mapping[str, LanguageSpec] = MappingProxyType(
    {spec.name: spec for spec in (python.SPEC, java.SPEC, cpp.SPEC, go.SPEC, rust.SPEC)}
)
LANGUAGES: tuple[str, ...] = tuple(SPECS)

_BY_ALIAS = {alias: spec for spec in SPECS.values() for alias in (spec.name, *spec.aliases)}
_BY_SUFFIX = {suffix: spec for spec in SPECS.values() for suffix in spec.suffixes}


class UnsupportedLanguage(PerfOrchError):
    def __init__(self, language: str) -> None:
        super().__init__(f"unsupported language {language!r}: PerfOrch supports {', '.join(LANGUAGES)}")
        self.language = language


def language_spec(language: str) -> LanguageSpec:
    """The spec of a language name as users write it ("C++", "golang"); UnsupportedLanguage otherwise."""
    spec = _BY_ALIAS.get(language.strip().lower())
    if spec is None:
        raise UnsupportedLanguage(language)
    return spec


def check_language(language: str) -> str:
    """Normalise a language name ("C++" -> "cpp") or raise UnsupportedLanguage."""
    return language_spec(language).name


def spec_for_suffix(suffix: str) -> LanguageSpec | None:
    """The language whose source files end in `suffix` (".hpp"), or None."""
    return _BY_SUFFIX.get(suffix.lower())


def language_of_path(path: str) -> str:
    """The language of a source file, from its extension; UnsupportedLanguage otherwise."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    spec = spec_for_suffix(suffix)
    if spec is None:
        raise UnsupportedLanguage(suffix or path)
    return spec.name


def described() -> str:
    """Every language with its suffixes: `Python .py/.pyi, Java .java, ...`."""
    return ", ".join(spec.described for spec in SPECS.values())


__all__ = [
    "LANGUAGES",
    "SPECS",
    "LanguageSpec",
    "UnsupportedLanguage",
    "check_language",
    "described",
    "language_of_path",
    "language_spec",
    "spec_for_suffix",
]
