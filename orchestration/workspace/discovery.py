"""Which language a file is in, and the root of the workspace that holds it."""

from __future__ import annotations

from pathlib import Path

from ..config import CONFIG_FILE
from ..languages import described, spec_for_suffix
from .errors import WorkspaceError
from .project import ProjectLanguage


def language_of(file: Path) -> type[ProjectLanguage]:
    spec = spec_for_suffix(file.suffix)
    if spec is None:
        raise WorkspaceError(
            f"{file}: PerfOrch does not know the language of `{file.suffix or file.name}` files ({described()})"
        )
    return spec.project()


def find_root(file: Path, language: type[ProjectLanguage]) -> Path:
    """The nearest ancestor holding perforch.toml or the language's project file (the outermost of a
    chain for build systems whose subdirectories have their own, such as CMake)."""
    for directory in file.parents:
        if (directory / CONFIG_FILE).is_file():
            return directory
        if language.has_marker(directory):
            return language.outermost_root(directory)
    markers = " or ".join(language.markers)
    raise WorkspaceError(
        f"{file} is not inside a {language.project_kind}: no {markers} (nor {CONFIG_FILE}) in its folder or above. "
        f"Open a file of a project, or add {CONFIG_FILE} at the project's root with a [tests] command."
    )


def workspace_root(file: Path) -> Path:
    """The root of the workspace holding `file` (where its perforch.toml would be): to load the config
    before opening the workspace with it. WorkspaceError when there is none."""
    file = file.expanduser().resolve()
    return find_root(file, language_of(file))


def config_root(file: Path) -> Path:
    """Where the settings for `file` come from: its workspace root, or its folder outside any workspace
    (opening the workspace then reports what is missing)."""
    try:
        return workspace_root(file)
    except WorkspaceError:
        return file.expanduser().resolve().parent
