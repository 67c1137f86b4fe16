"""What a wheel ships: every package directory of the source tree is listed in pyproject.toml (an editable
install finds an unlisted subpackage on disk, so nothing else in the suite notices one missing from a wheel)."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _packages_on_disk() -> set[str]:
    found = set()
    for name, directory in SETUPTOOLS["package-dir"].items():
        for init in (ROOT / directory).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / directory).parts
            found.add(".".join([name, *relative]))
    return found


def test_every_package_directory_is_listed():
    missing = sorted(_packages_on_disk() - set(SETUPTOOLS["packages"]))
    assert not missing, f"add to [tool.setuptools].packages in pyproject.toml: {', '.join(missing)}"


def test_no_listed_package_is_missing_from_disk():
    assert set(SETUPTOOLS["packages"]) <= _packages_on_disk()
