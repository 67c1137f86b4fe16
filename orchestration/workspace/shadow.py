"""The shadow copy: a persistent mirror of a workspace where candidates are built and tested.

It lives in the cache dir, one per workspace root, and is kept in step with the user's tree by `sync`:
files are hard links to the user's (a 10,000-file tree mirrors in a fraction of a second), except the
few that toolchains rewrite in place (go.mod, Cargo.lock, ...), which are copies: writing through a
hard link would change the user's file. Our own writes never go through a link either: `write`
replaces the file atomically with a new inode. VCS dirs and build outputs are not mirrored, and the
shadow's own build outputs (target/, CMake's build dir, __pycache__) are kept, so builds stay incremental.

A file whose content differs from what was built must look newer than the build to make and cargo,
which judge by mtime: so a shadow file is only ever replaced by a fresh copy (new mtime), never by a
link to the user's older file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..checking.cache import cache_root
from ..languages import SPECS

# Never mirrored, and never removed from the shadow: version control, IDE state, and each language's
# tool caches and environments.
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".jj", ".idea", ".vscode", "node_modules"}.union(
        *(spec.skipped_dirs for spec in SPECS.values())
    )
)
# Rewritten in place by the toolchains that read them (go.mod, Cargo.lock): mirrored as copies.
COPIED_FILES = frozenset().union(*(spec.copied_files for spec in SPECS.values()))
# A file that marks the directory holding it as a build dir (CMakeCache.txt).
_BUILD_DIR_MARKERS = tuple(marker for spec in SPECS.values() for marker in spec.build_dir_markers)
_LOCK_POLL_SECONDS = 0.05


def _build_outputs() -> dict[str, tuple[str, ...]]:
    """A build output directory's name -> the manifests beside which it is one (target/ beside Cargo.toml)."""
    outputs: dict[str, tuple[str, ...]] = {}
    for spec in SPECS.values():
        for name, manifests in spec.build_outputs.items():
            outputs[name] = (*outputs.get(name, ()), *manifests)
    return outputs


_BUILD_OUTPUTS = _build_outputs()


def is_skipped_dir(directory: Path) -> bool:
    """A directory the mirror leaves out: listed above, a build dir (CMake's), or a build output beside its
    manifest (target/ of cargo or Maven)."""
    if directory.name in SKIPPED_DIRS or any((directory / marker).exists() for marker in _BUILD_DIR_MARKERS):
        return True
    manifests = _BUILD_OUTPUTS.get(directory.name, ())
    return any((directory.parent / name).exists() for name in manifests)


def source_files(root: Path) -> Iterator[str]:
    """Paths relative to `root` of the files (and symlinks) the mirror holds, skipped dirs left out."""
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except PermissionError:
            continue  # not ours to read: not ours to test either
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not is_skipped_dir(Path(entry.path)):
                    pending.append(Path(entry.path))
            else:
                yield os.path.relpath(entry.path, root)


def shadow_home(root: Path) -> Path:
    """The cache dir of one workspace: `tree/` (the mirror), build dirs beside it, the lock file."""
    resolved = root.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    return cache_root() / "workspaces" / f"{resolved.name}-{digest}"


@dataclass(frozen=True)
class SyncReport:
    linked: int
    copied: int
    removed: int

    def __str__(self) -> str:
        return f"{self.linked} files linked, {self.copied} copied, {self.removed} removed"


class ShadowTree:
    def __init__(self, source: Path, home: Path) -> None:
        self.source = source  # the user's workspace root: only ever read
        self.home = home
        self.tree = home / "tree"

    @classmethod
    def for_workspace(cls, root: Path) -> ShadowTree:
        return cls(root, shadow_home(root))

    # -- mirroring -------------------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Bring the mirror in step with the user's tree (blocking; run it in a thread)."""
        self.tree.mkdir(parents=True, exist_ok=True)
        wanted = set(source_files(self.source))
        linked = copied = 0
        made_dirs: set[str] = set()
        for relative in wanted:
            parent = os.path.dirname(relative)
            if parent and parent not in made_dirs:
                (self.tree / parent).mkdir(parents=True, exist_ok=True)
                made_dirs.add(parent)
            outcome = self._mirror(relative)
            linked += outcome == "linked"
            copied += outcome == "copied"
        removed = self._remove_extra(wanted)
        return SyncReport(linked, copied, removed)

    def _mirror(self, relative: str) -> str:
        original, mirrored = self.source / relative, self.tree / relative
        wanted = os.lstat(original)
        try:
            present = os.lstat(mirrored)
        except FileNotFoundError:
            present = None
        if os.path.islink(original):
            return self._mirror_symlink(original, mirrored)
        if present is not None and (present.st_ino, present.st_dev) == (wanted.st_ino, wanted.st_dev):
            return "kept"  # the same file, linked earlier
        if present is None and os.path.basename(relative) not in COPIED_FILES and _try_link(original, mirrored):
            return "linked"
        if present is not None and not os.path.islink(mirrored) and _same_content(original, mirrored):
            return "kept"
        self._replace_with_copy(original, mirrored)
        return "copied"

    def _mirror_symlink(self, original: Path, mirrored: Path) -> str:
        target = os.readlink(original)
        if os.path.islink(mirrored) and os.readlink(mirrored) == target:
            return "kept"
        temporary = _temporary_name(mirrored)
        os.symlink(target, temporary)
        os.replace(temporary, mirrored)
        return "copied"

    def _replace_with_copy(self, original: Path, mirrored: Path) -> None:
        temporary = _temporary_name(mirrored)
        shutil.copyfile(original, temporary, follow_symlinks=False)
        shutil.copymode(original, temporary)
        os.replace(temporary, mirrored)

    def _remove_extra(self, wanted: set[str]) -> int:
        """Remove what the user no longer has (and files we generated); skipped dirs stay."""
        extra = [relative for relative in source_files(self.tree) if relative not in wanted]
        for relative in extra:
            (self.tree / relative).unlink(missing_ok=True)
        return len(extra)

    # -- writing candidates ------------------------------------------------------------------------------

    def write(self, relative: str, text: str) -> Path:
        """Put `text` at `relative` in the mirror as a new file (atomic; never through a hard link)."""
        target = self.tree / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = _temporary_name(target)
        temporary.write_bytes(text.encode("utf-8"))
        original = self.source / relative
        if original.exists():
            shutil.copymode(original, temporary)
        os.replace(temporary, target)
        return target

    def restore(self, relative: str) -> None:
        """Put the user's version back (a fresh copy, so builds see it as changed), or remove a file
        the user does not have (a generated test)."""
        original, mirrored = self.source / relative, self.tree / relative
        if original.exists():
            self._replace_with_copy(original, mirrored)
        else:
            mirrored.unlink(missing_ok=True)

    def path(self, relative: str | Path) -> Path:
        return self.tree / relative

    # -- one candidate at a time ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Hold the mirror alone, across processes too (an flock; polled, so a cancelled waiter never
        ends up holding a lock nobody releases)."""
        self.home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.home / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(_LOCK_POLL_SECONDS)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock


def _try_link(original: Path, mirrored: Path) -> bool:
    """Hard-link when the file system allows it (not across devices, not on every file system)."""
    try:
        os.link(original, mirrored)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
            return False
        raise
    return True


def _same_content(first: Path, second: Path) -> bool:
    if os.path.getsize(first) != os.path.getsize(second):
        return False
    with open(first, "rb") as a, open(second, "rb") as b:
        while True:
            chunk = a.read(1 << 16)
            if chunk != b.read(1 << 16):
                return False
            if not chunk:
                return True


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.perforch-{os.getpid()}.tmp")
