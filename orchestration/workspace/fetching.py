"""Resolving a workspace's dependencies: once, with the network, trusted. When it fails the user reads why
(the network, or the project itself, such as code that does not compile) and the tool's own first error,
with the shadow copy's paths written relative to the workspace."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from ..checking.diagnostics import compiler_excerpt
from .errors import WorkspaceError
from .project import Command, ProjectLanguage
from .verdicts import Scrubber

_FETCH_SECONDS = 900


async def run_fetch(language: ProjectLanguage, command: Command) -> None:
    """Run one fetch step; WorkspaceError with its cause and the tool's error when it fails."""
    tool = Path(command.argv[0]).name
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            command.argv,
            cwd=command.cwd,
            env={**os.environ, **command.env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_FETCH_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise WorkspaceError(
            f"preparing the workspace: {tool} took longer than {_FETCH_SECONDS} s resolving its dependencies "
            "(a slow or blocked network?); run again once it is reachable"
        ) from None
    except OSError as exc:
        raise WorkspaceError(f"preparing the workspace: cannot run {tool}: {exc}") from None
    if done.returncode != 0:
        raise WorkspaceError(fetch_failure(language, tool, done.stdout + done.stderr))


def fetch_failure(language: ProjectLanguage, tool: str, output: str) -> str:
    scrub = Scrubber(language.site.tree, language.site.cache)
    said = compiler_excerpt(scrub(language.plain_output(output))) or "(no output)"
    return f"preparing the workspace failed: {language.fetch_failure(output)}.\n{tool} said:\n{said}"


def missing_offline(tool: str, artifact: str) -> WorkspaceError:
    """A candidate's run found something missing that the fetch should have brought: the machine's
    problem, which no candidate can fix."""
    return WorkspaceError(
        f"{tool} could not find {artifact} offline: resolving the project once with the network did not bring "
        "it, so no version can be built and tested here (this is the environment, not a model's answer). "
        "PerfOrch resolves the project again on the next run; if this repeats, run the project's tests once "
        f"yourself with the network (`{tool} test`) and try again"
    )
