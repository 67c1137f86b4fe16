"""The five languages of workspace mode, one module each, chosen by the edited file's suffix."""

from __future__ import annotations

from ...languages.cpp.project import CMakeProject
from ...languages.go.project import GoModule
from ...languages.java.project import MavenProject
from ...languages.python.project import PythonProject
from ...languages.rust.project import CargoCrate
from ..project import Command, GeneratedTest, Plan, ProjectLanguage, Site, TestCase

LANGUAGES: tuple[type[ProjectLanguage], ...] = (PythonProject, MavenProject, CMakeProject, GoModule, CargoCrate)


def language_for_suffix(suffix: str) -> type[ProjectLanguage] | None:
    return next((language for language in LANGUAGES if suffix.lower() in language.suffixes), None)


__all__ = [
    "LANGUAGES",
    "Command",
    "GeneratedTest",
    "Plan",
    "ProjectLanguage",
    "Site",
    "TestCase",
    "language_for_suffix",
]
