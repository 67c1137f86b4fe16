"""Where profiles live: shipped ones in the `perforch.profiles` package; a user's own (from `perforch profile`)
in the data dir, where they override shipped cells of the same name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..user_data import user_data_dir
from .matrix import ProfileError, RankingMatrix


def user_profiles_dir() -> Path:
    return user_data_dir() / "profiles"


def shipped_profile_names() -> list[str]:
    return sorted(
        p.name[: -len(".toml")] for p in resources.files("perforch.profiles").iterdir() if p.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path) -> RankingMatrix:
    """A profile by file path, or by name: the user's profile of that name laid over the shipped one."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ProfileError(f"{path}: profile file not found")
        return RankingMatrix.from_toml(path.read_text(encoding="utf-8"), str(path))
    name = str(name_or_path)
    shipped_file = resources.files("perforch.profiles") / f"{name}.toml"
    user_file = user_profiles_dir() / f"{name}.toml"
    shipped = _read(shipped_file, name) if shipped_file.is_file() else None
    user = _read(user_file, str(user_file)) if user_file.is_file() else None
    if shipped is None and user is None:
        known = ", ".join(shipped_profile_names()) or "none"
        raise ProfileError(
            f"profile {name!r} not found: not a file, not a shipped profile ({known}), not in {user_profiles_dir()}"
        )
    if shipped and user:
        return user.merged_over(shipped)
    return user or shipped


def _read(file, origin: str) -> RankingMatrix:
    return RankingMatrix.from_toml(file.read_text(encoding="utf-8"), origin)


def save_user_profile(name: str, matrix: RankingMatrix) -> Path:
    target = user_profiles_dir() / f"{name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(matrix.to_toml(), encoding="utf-8")
    return target
