"""Workspace mode: functions of real projects, tested by the project's own tests in its own toolchain.

    config = load_config(workspace_root(file))
    ws = Workspace.open(file, config)        # WorkspaceError with what to do when it cannot be tested
    await ws.prepare()                       # once, with the network: dependencies, shadow copy, warm build
    validator = ws.validator("count_vowels", limits)
    verdict = await validator.check(candidate_file_text)
    timing = await validator.measure(candidate_file_text)

Modules: discovery (language and root), shadow (the mirror candidates run in), testcases and selection
(which tests check a function), docexamples (doc comments as tests), project (what a language's
`languages/<name>/project.py` provides: commands and test names), steps (running them confined),
reports and verdicts (what a run says), validator, workspace.
"""

from __future__ import annotations

from .discovery import config_root, workspace_root
from .errors import WorkspaceError
from .selection import DOC_EXAMPLES, WHOLE_SUITE
from .shadow import ShadowTree
from .validator import WorkspaceValidator
from .workspace import Workspace

__all__ = [
    "DOC_EXAMPLES",
    "WHOLE_SUITE",
    "config_root",
    "ShadowTree",
    "Workspace",
    "WorkspaceError",
    "WorkspaceValidator",
    "workspace_root",
]
