"""Finished jobs' proposals, waiting under an id until the user applies or discards them, and applying one
through workspace/applyEdit only if its document is still as the job found it."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .edits import workspace_edit
from .messages import Refused

log = logging.getLogger(__name__)

APPLY, DISCARD = "perforch.apply", "perforch.discard"
MAX_PROPOSALS = 32


@dataclass
class Stored:
    """A finished job's proposal, waiting to be applied."""

    id: str
    uri: str
    version: int | None  # of the document the job started from
    proposal: Any  # perforch.orchestration.proposal.Proposal
    on_decided: Callable[[bool], None] | None = None  # a running job's offer: told of the accept or reject

    @property
    def label(self) -> str:
        return f"PerfOrch: {self.proposal.kind} {self.proposal.function}"

    def edit(self, ls: LanguageServer, *, annotated: bool) -> types.WorkspaceEdit:
        proposal = self.proposal
        return workspace_edit(
            ls, self.uri, self.version, proposal.original, proposal.proposed, self.label, annotated=annotated
        )


class ProposalStore:
    """The proposals waiting, oldest first; beyond MAX_PROPOSALS the oldest are forgotten (a client that never
    answers must not grow the server without bound)."""

    def __init__(self) -> None:
        self._waiting: dict[str, Stored] = {}
        self._replaced: dict[str, str] = {}  # an early offer's id -> the id of the version that replaced it
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"p{next(self._ids)}"

    def keep(self, stored: Stored) -> None:
        self._waiting[stored.id] = stored
        while len(self._waiting) > MAX_PROPOSALS:
            oldest = next(iter(self._waiting))
            log.info("proposal %s forgotten: more than %d were waiting", oldest, MAX_PROPOSALS)
            del self._waiting[oldest]

    def find(self, proposal_id: str | None) -> Stored:
        """The proposal with this id; None means the latest (what `:lsp-workspace-command perforch.apply` in
        Helix can send)."""
        if proposal_id is None:
            if not self._waiting:
                raise Refused("no proposal waiting: run generate or optimize first")
            return next(reversed(self._waiting.values()))
        if proposal_id in self._replaced:
            newer = self._replaced[proposal_id]
            raise Refused(f"proposal {proposal_id!r} was replaced by a faster version, {newer!r}: review that one")
        if proposal_id not in self._waiting:
            raise Refused(f"no proposal {proposal_id!r}: it was applied, discarded or never made")
        return self._waiting[proposal_id]

    def forget(self, proposal_id: str) -> None:
        self._waiting.pop(proposal_id, None)

    def replace(self, old_id: str, newer: Stored) -> None:
        """`newer` takes the place of the waiting `old_id`: applying `old_id` is refused, naming `newer`."""
        self.forget(old_id)
        self._replaced[old_id] = newer.id
        while len(self._replaced) > MAX_PROPOSALS:
            del self._replaced[next(iter(self._replaced))]
        self.keep(newer)

    def __iter__(self) -> Iterator[str]:
        return iter(self._waiting)

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, proposal_id: object) -> bool:
        return proposal_id in self._waiting

    def values(self) -> list[Stored]:
        return list(self._waiting.values())


async def apply(ls: LanguageServer, store: ProposalStore, proposal_id: str | None, direct: bool) -> dict:
    """Apply a proposal if its document is still as the job found it. Without `direct`, clients that can
    preview an edit (change annotations) are asked to show it first."""
    stored = store.find(proposal_id)
    document = ls.workspace.get_text_document(stored.uri)
    if document.version != stored.version or document.source != stored.proposal.original:
        raise Refused(
            f"{Path(document.path).name} changed since the proposal {stored.id} was made (version "
            f"{stored.version}, now {document.version}); it was not applied: run PerfOrch again"
        )
    _check_writable(stored.proposal.file)
    edit = stored.edit(ls, annotated=not direct)
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=stored.label))
    if not result.applied:
        reason = result.failure_reason or "the editor did not apply the edit"
        return {"status": "refused", "id": stored.id, "applied": False, "refused": reason}
    store.forget(stored.id)
    if stored.on_decided is not None:
        stored.on_decided(True)
    await stored.proposal.chosen(accepted=True)  # the models that made it learn that the user kept it
    return {"status": "applied", "id": stored.id, "applied": True, "refused": ""}


def _check_writable(file: Path) -> None:
    """Refused (an ApplyRefused), as `perforch generate --apply` refuses, when the file on disk is read-only."""
    from perforch.orchestration.proposal import check_writable

    check_writable(file)


async def discard(store: ProposalStore, proposal_id: str | None) -> dict:
    """Forget a proposal (the user rejected it); the document is not touched."""
    stored = store.find(proposal_id)
    store.forget(stored.id)
    if stored.on_decided is not None:
        stored.on_decided(False)
    await stored.proposal.chosen(accepted=False)  # a weaker signal than a failed test: see outcomes.py
    return {"status": "discarded", "id": stored.id}
