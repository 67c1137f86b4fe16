"""Versions offered while a job still runs, to a client that declares `experimental.perforch.proposals: true`:
the first passing version as soon as it exists, then each faster one refinement keeps. Each comes as a
`perforch/proposal` notification ({token, job, id, uri, version, edit, refining: true, ...the engine's report}),
with a proposal id that perforch.apply and perforch.discard take, as a finished job's answer carries one. A newer
version replaces the one before: applying the older id is then refused, naming the newer.

What the user may do with an offer while the job runs, and what follows:
- Accept: the file now holds that version, and refinement goes on. A faster version, if one is found, is offered
  against the file as accepted (its diff is only the further change); if none is, the job's answer proposes
  nothing and says the accepted version stands. Once the user edits the file further, nothing more is offered.
- Reject: the job ends as cancelled: nothing more is spent refining a version the user does not want.
- Cancel the job: refinement stops; the version offered last stays waiting, and the cancelled answer names it.
The job's answer replaces the last offer still waiting: under the same id when it is the same version (a client
then only relabels its preview), else under a new one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol.converters import get_converter
from pygls.lsp.server import LanguageServer

from .proposals import ProposalStore, Stored

log = logging.getLogger(__name__)

PROPOSAL = "perforch/proposal"


class Offers:
    """One job's offers. `notify` sends a notification's fields (with the job's token and id) to the client, or is
    None when the client did not ask for offers: then the job proposes only when it is done, as before."""

    def __init__(
        self,
        ls: LanguageServer,
        store: ProposalStore,
        job: Any,  # jobs.Job
        notify: Callable[[str, dict], None] | None,
    ) -> None:
        self.ls = ls
        self.store = store
        self.job = job
        self.notify = notify
        self.latest: Stored | None = None  # the version offered last, while it waits for the user
        self.accepted: Any = None  # the offered Proposal the user accepted: the file now holds it
        self.rejected = False  # the user rejected an offer, which ended the job

    @property
    def wanted(self) -> bool:
        return self.notify is not None

    def offer(self, proposal: Any) -> None:
        """The engine's on_offer: a better version than the last, while the job goes on."""
        if self.notify is None:
            return
        against = self._against_file(proposal)
        if against is None:
            log.info("job %s: a faster version is not offered: the file changed after the accept", self.job.id)
            return
        proposal, version = against
        if proposal.proposed is None:
            return
        stored = Stored(self.store.new_id(), self.job.uri, version, proposal)
        stored.on_decided = lambda accepted: self._decided(stored, accepted)
        self._replace(self.latest, stored)
        self.latest = stored
        log.info("job %s: offers %s while it refines", self.job.id, stored.id)
        self.notify(PROPOSAL, {**self._fields(stored), "refining": True, **proposal.report()})

    def answer(self, proposal: Any) -> dict:
        """The job's answer, with `proposal` (the finished run's) in the place of the last offer."""
        against = self._against_file(proposal)
        if against is None:  # what it found was not offered: it would undo the user's edits since the accept
            answer = {"status": "done", **self._fields(None, self.job.version), **proposal.report()}
            answer["summary"] += "; the file changed after you accepted a version, so this one was not offered"
            return answer
        proposal, version = against
        latest, self.latest = self.latest, None
        stored = None
        if latest is not None and proposal.proposed == latest.proposal.proposed:
            stored = dataclasses.replace(latest, proposal=proposal, on_decided=None)  # the same version: its id
            self.store.keep(stored)
        elif proposal.proposed is not None:
            stored = Stored(self.store.new_id(), self.job.uri, version, proposal)
            self._replace(latest, stored)
        elif latest is not None:  # nothing to propose now (a cap stopped the run): the offer is stale
            self.store.forget(latest.id)
        answer = {"status": "done", **self._fields(stored, version), **proposal.report()}
        if self.accepted is not None and stored is None:
            answer["summary"] += "; the version you accepted stands"
        return answer

    def cancelled(self) -> dict:
        """The answer of a cancelled job: the version offered last, if any, still waits; `accepted` when the user
        accepted an offer before, `rejected` when the job ended because the user rejected its offer."""
        offered = self.latest.id if self.latest else None
        decided = {"accepted": self.accepted is not None, "rejected": self.rejected}
        return {"status": "cancelled", "job": self.job.id, "offered": offered, **decided}

    def _decided(self, stored: Stored, accepted: bool) -> None:
        if self.latest is stored:
            self.latest = None
        if self.job.task is None or self.job.task.done():
            return
        if accepted:  # refinement goes on, from the file as it now is
            self.accepted = stored.proposal
        else:
            log.info("job %s: its offer %s was rejected; the job ends", self.job.id, stored.id)
            self.rejected = True
            self.job.task.cancel()

    def _replace(self, older: Stored | None, stored: Stored) -> None:
        if older is not None:
            self.store.replace(older.id, stored)
        else:
            self.store.keep(stored)

    def _against_file(self, proposal: Any) -> tuple[Any, int | None] | None:
        """The proposal and the document version it applies to: once an offer was accepted, against that text at
        the document's version now; None when the user has edited the file since."""
        if self.accepted is None:
            return proposal, self.job.version
        document = self.ls.workspace.get_text_document(self.job.uri)
        if document.source != self.accepted.proposed:
            return None
        return proposal.after(self.accepted), document.version

    def _fields(self, stored: Stored | None, version: int | None = None) -> dict:
        edit = get_converter().unstructure(stored.edit(self.ls, annotated=False)) if stored is not None else None
        where = {"job": self.job.id, "id": stored.id if stored else None, "uri": self.job.uri}
        return {**where, "version": stored.version if stored else version, "edit": edit}
