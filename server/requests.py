"""PerfOrch's own requests: perforch/rankings (the ranking in force), perforch/routing (the models a job on
a file would ask) and perforch/status (jobs, proposals, cost). Their params are checked here: absent, or an
object whose known fields have their type."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from perforch.orchestration.errors import PerfOrchError
from perforch.orchestration.languages import check_language
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from . import routing as route
from .session import Session
from .settings import checked_engine_config

RANKINGS, STATUS, ROUTING = "perforch/rankings", "perforch/status", route.ROUTING


def rankings(session: Session, params: Any) -> dict:
    """params (all optional): {"language": str, "profile": str, "explain": bool, "uri": str}. The ranking in
    force (for one language, if asked; with the config a job on the file `uri` reads, if given), as
    `perforch rankings --json` shows it."""
    from perforch.orchestration.rankings.router import Router
    from perforch.orchestration.rankings.view import RankingsView

    fields = _checked(RANKINGS, params, language=str, profile=str, explain=bool, uri=str)
    file = Path(to_fs_path(fields["uri"]) or fields["uri"]) if fields.get("uri") else None
    config, _ = checked_engine_config(session.settings, file, session.root)
    try:
        view = RankingsView(Router.configured(config, fields.get("profile") or session.settings.profile or None))
        language = fields.get("language")
        languages = view.languages(check_language(language) if language else None)
    except PerfOrchError as exc:  # the params named them (a language, a profile), or the config's profile
        raise JsonRpcInvalidParams(str(exc)) from None
    return view.as_json(languages, explain=bool(fields.get("explain")))


def routing(session: Session, params: Any) -> dict:
    """params: {"uri": str, "category": str (optional)}; see routing.routing."""
    return route.routing(session.settings, session.root, _checked(ROUTING, params, uri=str, category=str))


def status(session: Session, params: Any) -> dict:
    """params: none, or an object (ignored). Jobs in flight, proposals waiting, and what the session's model
    calls have cost: `cost_usd` of the priced calls, `unpriced_calls` (never counted as $0), `cost` as text."""
    _checked(STATUS, params)
    now = time.monotonic()
    jobs = [
        {"id": job.id, "kind": job.kind, "uri": job.uri, "function": job.function, "stage": job.stage,
         "model": job.model, "seconds": round(now - job.started, 1), "tokens": job.usage.tokens}
        for job in session.jobs.running.values()
    ]  # fmt: skip
    proposals = [
        {"id": s.id, "kind": s.proposal.kind, "uri": s.uri, "function": s.proposal.function, "version": s.version}
        for s in session.proposals.values()
    ]
    totals = session.jobs.totals()
    spent = {"tokens": totals.tokens, "cost_usd": round(totals.cost_usd, 6), "unpriced_calls": totals.unpriced_calls}
    return {"jobs": jobs, "proposals": proposals, **spent, "cost": totals.cost_shown}


def _checked(method: str, params: Any, **types_of: type) -> dict:
    """A custom request's params as a dict (pygls hands an object over as a namedtuple), or -32602."""
    if params is None:
        return {}
    if not hasattr(params, "_asdict"):
        raise JsonRpcInvalidParams(f"{method}: params must be an object, got {type(params).__name__}")
    fields = params._asdict()
    for name, kind in types_of.items():
        value = fields.get(name)
        if value is not None and not isinstance(value, kind):
            expected = {str: "a string", bool: "true or false"}[kind]
            raise JsonRpcInvalidParams(f"{method}: params.{name} must be {expected}, got {type(value).__name__}")
    return fields
