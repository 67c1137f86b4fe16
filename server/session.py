"""Everything the server remembers between requests, one object per server process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .code_actions import FunctionLookup
from .jobs import Jobs
from .proposals import ProposalStore
from .settings import Settings


class Session:
    def __init__(self) -> None:
        self.settings = Settings()
        self.root: Path | None = None
        self.init_options: Any = None
        self.client_tells = False  # the client shows jobs' outcomes itself (app._client_tells)
        self.pushed: Any = None  # settings sent with workspace/didChangeConfiguration
        self.problems: set[str] = set()  # with the settings in force, already shown to the user
        self.functions = FunctionLookup()
        self.jobs = Jobs()
        self.proposals = ProposalStore()
        self.background: set[asyncio.Task] = set()  # apply prompts: kept so they are not collected

    async def cancel_all(self) -> None:
        tasks = self.jobs.tasks() + list(self.background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
