"""The walls around a candidate's build and tests in workspace mode, built by bubblewrap (bwrap).

Each confined command runs as `bwrap <walls> [setpriv <throwaway uid>] argv`, and gets:
- a mount namespace where the whole system is read-only; home dirs (/root, /home, $HOME), /tmp, /var/tmp,
  /run and PerfOrch's config, data and cache dirs are hidden under empty tmpfs. Back in, read-only: this
  workspace's dir in the cache (the shadow copy, build dirs), the toolchains (the started program's prefix,
  PATH dirs, cargo and rustup homes without their credentials, the Go module cache, the Maven repository)
  and Python's prefixes.
  Writable: the candidate's scratch dir (its HOME), a private /tmp, and the build outputs or its own
  copies of them, as the `Jail` class says, so nothing a candidate's code writes reaches the next one;
- its own PID namespace whose pid 1 waits for the command: when it ends the kernel kills whatever it started,
  double-forked daemons included, and its rusage still counts the CPU time of what it waited for;
- no network, no IPC with the host, a new session (no keystrokes pushed into a terminal);
- an empty environment plus an allow-list: PATH, locale, the toolchains' variables, a scratch HOME. No key;
- when PerfOrch runs as root, the box's throwaway uid (setpriv drops to it; bwrap has already dropped every
  capability and set no_new_privs), so RLIMIT_NPROC binds, the read-only binds cannot be remounted, and
  file permissions alone would keep it off the user's files too. Not root: bwrap's own user namespace
  (the caller's uid, no capability), and no process-count limit.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checking.cache import cache_root
from ..checking.sandbox import Sandbox
from ..config import user_config_path
from ..user_data import user_data_dir
from .project import Command, ProjectLanguage

_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_SHELL = "/bin/sh"
TMP_BYTES = 512 * 1024 * 1024  # the private /tmp (a tmpfs, so it is memory): compilers' temporary files fit
# Passed through from PerfOrch's environment; anything else (API keys above all) is not.
PASSED_ENVIRONMENT = frozenset(
    {
        "LANG",
        "LANGUAGE",
        "TZ",
        "JAVA_HOME",
        "MAVEN_OPTS",
        "MAVEN_ARGS",
        "MAVEN_HOME",
        "M2_HOME",
        "GOROOT",
        "GOPATH",
        "GOMODCACHE",
        "GOFLAGS",
        "GOPROXY",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GOEXPERIMENT",
        "GOAMD64",
        "CGO_ENABLED",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CC",
        "CXX",
        "CFLAGS",
        "CXXFLAGS",
        "CPPFLAGS",
        "LDFLAGS",
        "PKG_CONFIG_PATH",
        "CMAKE_PREFIX_PATH",
        "VIRTUAL_ENV",
        "PYTHONPATH",
    }
)
_CARGO_CREDENTIALS = ("credentials", "credentials.toml")
INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), "
    'or choose to run candidates without isolation with [sandbox] mode = "none" in perforch.toml'
)


# -- can it run here ----------------------------------------------------------------------------------


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why bubblewrap cannot confine commands on this machine, or None when it can."""
    bwrap = shutil.which("bwrap", path=_SYSTEM_PATH)
    if bwrap is None:
        return f"the sandbox needs bubblewrap (bwrap), which is not installed: {INSTALL_HINT}"
    if os.geteuid() == 0 and shutil.which("setpriv", path=_SYSTEM_PATH) is None:
        return "the sandbox needs setpriv (util-linux) to drop root: install util-linux"
    probe = [bwrap, *_namespaces(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]
    done = subprocess.run(probe, capture_output=True, text=True, env={"PATH": _SYSTEM_PATH})
    if done.returncode != 0:
        return (
            f"bubblewrap cannot create the sandbox's namespaces here ({done.stderr.strip() or done.returncode}): "
            "run PerfOrch as root or allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0; "
            f"Debian's kernel.unprivileged_userns_clone=1); else {INSTALL_HINT.split(', or ')[1]}"
        )
    return None


def signal_of(exit_code: int | None) -> int | None:
    """The signal that ended a jailed command, from its shell's exit status (128 + n)."""
    return exit_code - 128 if exit_code is not None and 128 < exit_code < 128 + 65 else None


def _namespaces() -> list[str]:
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    return [*user, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--as-pid-1"]


# -- one candidate's walls ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Jail:
    """The walls of one candidate (or of warming a workspace): what its commands may write, and as whom.

    Build steps ("build": a compiler over the candidate's source; no candidate code runs) write the
    trusted build outputs, as the caller, so builds stay incremental. Steps that run the candidate's code
    ("test", "build+test") run as the throwaway uid and see the build outputs read-only, except their
    own fresh copies of what the tests write (`ProjectLanguage.test_outputs`).
    """

    shadow: Path  # the workspace's cache dir (the shadow copy, build dirs): read-only, but for build outputs
    scratch: Path  # the candidate's own dir: HOME, reports; bound read-write
    outputs: tuple[Path, ...]  # the trusted build outputs: written by build steps only
    copies: Mapping[Path, Path]  # a path the test steps write -> this candidate's copy, bound there
    uid: int | None  # the throwaway uid that runs the candidate's code; None keeps the caller's

    @classmethod
    def for_candidate(cls, language: ProjectLanguage, box: Sandbox) -> Jail:
        """Walls for one candidate, with fresh copies of what its tests write (blocking; in a thread)."""
        uid = box.sandbox_uid()
        copies = {}
        for number, original in enumerate(language.test_outputs()):
            _make_mount_point(original)
            copy = box.root / "test-outputs" / str(number)
            copy.parent.mkdir(exist_ok=True)
            # --reflink=auto: a copy-on-write clone where the file system can; timestamps kept for the tools.
            subprocess.run(["cp", "-a", "--reflink=auto", str(original), str(copy)], check=True)
            copies[original] = copy
        return cls._made(language, box, copies, uid)

    @classmethod
    def for_warming(cls, language: ProjectLanguage, box: Sandbox) -> Jail:
        """Walls for warming: only build steps, over the user's own code."""
        return cls._made(language, box, {}, None)

    @classmethod
    def _made(cls, language: ProjectLanguage, box: Sandbox, copies: dict[Path, Path], uid: int | None) -> Jail:
        for directory in language.build_outputs():
            directory.mkdir(parents=True, exist_ok=True)
        (box.run_dir / "home").mkdir(exist_ok=True)
        if uid is not None:
            subprocess.run(["chown", "-R", f"{uid}:{uid}", str(box.run_dir), *map(str, copies.values())], check=True)
            # Build steps (the caller, without capabilities) put binaries here too; the box's root stays
            # 0700, so only the jail, where nothing else lives, reaches this dir.
            box.run_dir.chmod(0o777)
        return cls(language.site.cache, box.run_dir, tuple(language.build_outputs()), copies, uid)

    def outside(self, path: Path) -> Path:
        """Where a path the tools write (a report under a build output) is found from outside the walls."""
        for inside, copy in self.copies.items():
            if path == inside or inside in path.parents:
                return copy / path.relative_to(inside)
        return path

    def argv(self, command: Command) -> list[str]:
        """`command` as a bwrap command line (bwrap's own environment needs nothing from ours)."""
        walls = [shutil.which("bwrap", path=_SYSTEM_PATH) or "bwrap", *_namespaces(), "--die-with-parent"]
        if self.uid is not None:
            walls += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]  # for setpriv, which drops them
        walls += ["--new-session", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        hidden = _hidden_dirs()
        for directory in hidden:
            size = ["--size", str(TMP_BYTES), "--perms", "1777"] if directory == Path("/tmp") else []
            walls += [*size, "--tmpfs", str(directory)]
        box = self.scratch.parent  # private: a program built into scratch must not bring it in as its "prefix"
        wanted = [path for path in _readable(command, hidden) if path != box and box not in path.parents]
        builds = command.phase == "build"
        # The build outputs kept across candidates: written by build steps, read-only to the others.
        readable = _outermost([self.shadow, *wanted, *([] if builds else self.outputs)])
        writable = {path: path for path in self.outputs} if builds else dict(self.copies)
        # Dirs bwrap makes in the tmpfs for the mount points: traversable by the uid (bwrap may make them
        # 0700); the scratch dir's parents writable too, as in /tmp, or mkdir -p of it fails with EACCES.
        scratch_parents = set(_parents_within([self.scratch], hidden))
        for parent in _parents_within([*readable, *writable, self.scratch], hidden):
            mode = "1777" if parent in scratch_parents else "0755"
            walls += ["--dir", str(parent), "--chmod", mode, str(parent)]  # --chmod: the umask does not apply
        for directory in readable:
            walls += ["--ro-bind", str(directory), str(directory)]
        for secret in _secrets():
            walls += ["--ro-bind", "/dev/null", str(secret)]
        for directory in _private_dirs():
            walls += ["--tmpfs", str(directory)]
        for inside, outside in writable.items():
            walls += ["--bind", str(outside), str(inside)]
        walls += ["--bind", str(self.scratch), str(self.scratch), "--chdir", str(command.cwd), "--clearenv"]
        for name, value in self.environment(command).items():
            walls += ["--setenv", name, value]
        # pid 1 is a shell that waits for the command: the command's CPU time reaches bwrap's rusage, its
        # end ends the namespace (and all it started), and it can still die of a signal (pid 1 cannot:
        # abort() would spin). The shell reports a signal as 128 + n, as shells do (see `signal_of`).
        walls += ["--", _SHELL, "-c", '"$@"; exit $?', "sh"]
        if self.uid is not None and not builds:
            setpriv = shutil.which("setpriv", path=_SYSTEM_PATH) or "setpriv"
            walls += [setpriv, f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--"]
        return [*walls, *command.argv]

    def environment(self, command: Command) -> dict[str, str]:
        """The allow-list: locale, toolchain variables, PATH, a scratch HOME and /tmp; then the command's own."""
        passed = {
            name: value for name, value in os.environ.items() if name in PASSED_ENVIRONMENT or name.startswith("LC_")
        }
        home = str(self.scratch / "home")
        environment = {
            **passed,
            **_toolchain_homes(),
            "PATH": os.environ.get("PATH") or _SYSTEM_PATH,
            "HOME": home,
            "TMPDIR": "/tmp",
            "LANG": passed.get("LANG", "C.UTF-8"),
        }
        maven = _maven_options(passed.get("MAVEN_OPTS", ""), home)
        if maven:
            environment["MAVEN_OPTS"] = maven
        return {**environment, **command.env}


# -- what is hidden, what is readable -----------------------------------------------------------------


def _hidden_dirs() -> list[Path]:
    """Hidden under tmpfs first: homes and shared temp dirs (what is needed comes back read-only); the
    tmpfs on /tmp is the command's private /tmp."""
    candidates = [Path("/root"), Path("/home"), Path.home(), Path("/var/tmp"), Path("/run"), Path("/tmp")]
    candidates += [Path(os.environ.get("TMPDIR", "/tmp")), cache_root()]  # other workspaces' shadows too
    return _outermost(path.resolve() for path in candidates if path.is_dir())


def _private_dirs() -> list[Path]:
    """Hidden again after the readable binds, wherever they are: PerfOrch's config (the user file may name
    keys' variables and servers) and data (outcomes)."""
    return [path for path in (user_config_path().parent, user_data_dir()) if path.is_dir()]


def _readable(command: Command, hidden: Sequence[Path]) -> list[Path]:
    """Dirs under a hidden one that the command needs to read: the toolchains, Python."""
    wanted = [Path(sys.prefix), Path(sys.base_prefix), *_toolchain_dirs()]
    wanted += [Path(entry) for entry in (os.environ.get("PATH") or "").split(os.pathsep) if entry]
    program = Path(command.argv[0])
    if program.is_absolute():
        wanted.append(program.parent.parent)  # the program's prefix: a venv, ~/.cargo, a JDK
    resolved = {path.resolve() for path in wanted if path.is_absolute() and path.exists()}
    return [path for path in resolved if any(path == h or h in path.parents for h in hidden)]


def _secrets() -> list[Path]:
    """Files inside a readable toolchain dir that hold credentials: covered by /dev/null."""
    cargo = _toolchain_homes().get("CARGO_HOME")
    return [Path(cargo, name) for name in _CARGO_CREDENTIALS if cargo and Path(cargo, name).is_file()]


def _toolchain_homes() -> dict[str, str]:
    """The toolchains' homes, named explicitly: their defaults follow HOME, which points at scratch inside."""
    home = Path.home()
    defaults = {"CARGO_HOME": home / ".cargo", "RUSTUP_HOME": home / ".rustup"}
    homes = {name: os.environ.get(name) or str(path) for name, path in defaults.items() if path.is_dir()}
    homes |= {name: os.environ[name] for name in defaults if os.environ.get(name)}
    gopath = (os.environ.get("GOPATH") or str(home / "go")).split(os.pathsep)[0]
    module_cache = os.environ.get("GOMODCACHE") or str(Path(gopath) / "pkg" / "mod")
    if Path(module_cache).is_dir():
        homes["GOMODCACHE"] = module_cache
    return homes


def _maven_repository() -> Path | None:
    """The local repository Maven uses: `-Dmaven.repo.local` in MAVEN_OPTS (a CI's or a user's choice), else
    the one under the real home."""
    named = re.findall(r"-Dmaven\.repo\.local=(\S+)", os.environ.get("MAVEN_OPTS", ""))
    if not named:
        default = Path.home() / ".m2" / "repository"
        return default if default.is_dir() else None
    # Made here if missing, as Maven would make it: inside, the jail's read-only world would make Maven fail
    # with "Could not create local repository" instead of naming the artifact an offline run lacks.
    repository = Path(named[-1])  # the JVM takes the last
    with contextlib.suppress(OSError):
        repository.mkdir(mode=0o755, parents=True, exist_ok=True)
    return repository if repository.is_dir() else None


def _maven_options(options: str, home: str) -> str:
    """MAVEN_OPTS with the user's local repository (found from the real home) and a user.home in scratch:
    Java takes user.home from the passwd entry, which a throwaway uid has none of."""
    extra = [f"-Duser.home={home}"]
    repository = _maven_repository()
    if repository is not None and "maven.repo.local" not in options:
        extra.append(f"-Dmaven.repo.local={repository}")
    return " ".join([options, *extra]).strip()


def _toolchain_dirs() -> Iterable[Path]:
    for value in _toolchain_homes().values():
        yield Path(value)
    for name in ("JAVA_HOME", "GOROOT", "MAVEN_HOME", "M2_HOME"):
        if os.environ.get(name):
            yield Path(os.environ[name])
    repository = _maven_repository()
    if repository is not None:
        yield repository


def _parents_within(paths: Sequence[Path], hidden: Sequence[Path]) -> list[Path]:
    """The dirs between a hidden dir and each of `paths`, outer first: bwrap must create them in the tmpfs."""
    parents = {parent for path in paths for parent in path.parents if any(h in parent.parents for h in hidden)}
    return sorted(parents, key=lambda path: len(path.parts))


def _make_mount_point(path: Path) -> None:
    """A missing test output: an empty lock file (cargo's), else an empty dir."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith("lock"):
        path.touch()
    else:
        path.mkdir()


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths without those inside another one (binding the outer one covers them), outer first."""
    unique = sorted(set(paths), key=lambda path: len(path.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(path == outer or outer in path.parents for outer in kept):
            kept.append(path)
    return kept
