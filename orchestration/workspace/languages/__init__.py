"""The five languages of workspace mode, one module each, chosen by the edited file's suffix."""

from __future__ import annotations

from .base import Command, GeneratedTest, Plan, ProjectLanguage, Site, TestCase
from .cpp import CMakeProject
from .go import GoModule
from .java import MavenProject
from .python import PythonProject
from .rust import CargoCrate

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
