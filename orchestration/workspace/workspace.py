"""A workspace: the project that holds an edited file, its shadow copy, and validators for its functions."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..checking.sandbox import open_sandbox
from ..config import Config
from ..task import Limits
from .discovery import find_root, language_of
from .errors import WorkspaceError
from .fetching import run_fetch
from .jail import Jail, bubblewrap_problem
from .project import ProjectLanguage, Site
from .selection import select_tests
from .shadow import ShadowTree
from .steps import run_confined
from .validator import WorkspaceValidator

log = logging.getLogger(__name__)

# A first build of a project may take long (a cold cargo build of its dependencies); later ones are incremental.
_WARM_LIMITS = Limits(wall_seconds=60, build_seconds=900, memory_mb=4096)


class Workspace:
    """A user's project as PerfOrch tests it: its shadow copy stays in the cache dir, warm for the next run, so
    there is nothing to close."""

    def __init__(self, file: Path, root: Path, language: type[ProjectLanguage], config: Config) -> None:
        self.file = file  # absolute
        self.root = root
        self.language: str = language.spec.name
        self.config = config
        self.shadow = ShadowTree.for_workspace(root)
        site = Site(root=root, tree=self.shadow.tree, cache=self.shadow.home, file=str(file.relative_to(root)))
        self._project = language(site)
        self._prepared = False
        self._preparing = asyncio.Lock()

    @classmethod
    def open(cls, file: Path, config: Config) -> Workspace:
        """The workspace holding `file`; WorkspaceError when there is none PerfOrch can test."""
        file = file.expanduser().resolve()
        if not file.is_file():
            raise WorkspaceError(f"{file}: no such file")
        root = find_root(file, language_of(file))
        language = language_of(file).for_root(root)
        if language.needs_marker and not language.has_marker(root) and config.tests.command is None:
            raise WorkspaceError(
                f"{root} has perforch.toml but no {' or '.join(language.markers)}: PerfOrch cannot find the "
                f"tests of this {language.project_kind}; add the project file or a [tests] command"
            )
        return cls(file, root, language, config)

    async def prepare(self) -> None:
        """Once: check the tools, mirror the tree, resolve dependencies with the network, warm the build."""
        async with self._preparing:
            if self._prepared:
                return
            if self.isolated and (problem := await asyncio.to_thread(bubblewrap_problem)):
                raise WorkspaceError(problem)
            await asyncio.to_thread(self._project.check_tools)
            async with self.shadow.locked():
                report = await asyncio.to_thread(self.shadow.sync)
                log.info("test copy of %s brought up to date: %s", self.root, report)
                if self._project.has_marker(self.root):
                    await self._fetch()
                    await self._warm()
            self._prepared = True

    @property
    def _fetch_stamp(self) -> Path:
        return self.shadow.home / "fetched"

    def _forget_fetch(self) -> None:
        """A candidate found the resolution incomplete: the next preparation resolves again."""
        self._fetch_stamp.unlink(missing_ok=True)
        self._prepared = False

    async def _fetch(self) -> None:
        """Resolve dependencies with the network, unless the project files are those resolved last time."""
        stamp, resolved = self._fetch_stamp, self._dependency_digest()
        if stamp.exists() and stamp.read_text() == resolved:
            return
        for command in self._project.fetch():
            await run_fetch(self._project, replace(command, env={**self._project.env(), **command.env}))
        stamp.write_text(resolved)

    def _dependency_digest(self) -> str:
        digest = hashlib.sha256()
        for name in (*self._project.markers, *self._project.lock_files):
            path = self.root / name
            digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
        return digest.hexdigest()

    @property
    def isolated(self) -> bool:
        """Candidates run in a bubblewrap jail, unless the user chose [sandbox] mode = "none"."""
        return self.config.sandbox.mode != "none"

    async def _warm(self) -> None:
        async with open_sandbox(private=self.isolated) as box:
            jail = Jail.for_warming(self._project, box) if self.isolated else None
            for command in self._project.warm():
                run = await run_confined(box, jail, command, _WARM_LIMITS)
                if not run.succeeded:  # the user's own code may not build yet: candidates will say why
                    log.info("warming %s: %s exited %s", self.root, command.argv[:3], run.exit_code)

    def validator(
        self,
        function_name: str,
        limits: Limits,
        runs: int | None = None,
        on_run: Callable[[int, int], None] | None = None,
    ) -> WorkspaceValidator:
        """A Validator for candidate versions of this file, tested by the tests that exercise `function_name`;
        `on_run` is told of each timed run (WorkspaceValidator)."""
        selection = select_tests(self._project, function_name, self.config.tests.command)
        return WorkspaceValidator(
            self._project,
            self.shadow,
            function_name,
            selection,
            limits,
            bench_command=self.config.bench.command,
            runs=runs or self.config.pipeline.refine_runs,
            prepare=self.prepare,
            forget_fetch=self._forget_fetch,
            isolated=self.isolated,
            on_run=on_run,
        )
