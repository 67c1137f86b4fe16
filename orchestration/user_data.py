"""Where PerfOrch keeps the user's data: profiles, the outcome store, pulled local models."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def user_data_dir() -> Path:
    """PerfOrch's per-user data dir (PERFORCH_DATA_DIR relocates it)."""
    override = os.environ.get("PERFORCH_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("perforch"))
