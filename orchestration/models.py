"""The model gateway: every model call of the engine goes through `ModelGateway.complete`.

litellm does the provider work; the gateway adds what the pipeline relies on: model aliases, one
error type with a small set of kinds, our own retries (honouring Retry-After), an overall deadline,
a concurrency limit per model, cancellation that closes the HTTP request, and a usage ledger with a
token budget. API keys are read from the environment at call time and never logged or stored.
"""

from __future__ import annotations

import asyncio
import difflib
import email.utils
import json
import logging
import os
import random
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, Literal
from urllib.parse import urlsplit

from . import local_server, redaction
from .local_models import LocalModelError, is_local, lookup
from .local_server import ServerSettings

log = logging.getLogger(__name__)

ErrorKind = Literal[
    "unknown_model",
    "unreachable",
    "rate_limited",
    "server_error",
    "timeout",
    "empty_answer",
    "auth",
    "bad_request",
    "budget_exceeded",
]

# What the gateway accepts of one answer: far more than any function needs, far less than a runaway
# answer (tens of MB) that would otherwise be parsed, spliced and sent back in the next debug prompt.
MAX_ANSWER_CHARS = 100_000


class ModelError(Exception):
    """Any failed model call. `kind` says what went wrong; the message never holds key material."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        model: str = "",
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(kind, message, model)
        self.kind = kind
        self.message = message
        self.model = model
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said

    def __str__(self) -> str:
        return f"model {self.model!r}: {self.message}" if self.model else self.message


@dataclass(frozen=True, repr=False)
class ModelSpec:
    """A model as configured: an alias for a litellm id plus the parameters passed through to litellm."""

    alias: str
    model: str
    params: Mapping[str, Any] = field(default_factory=dict)
    api_key_env: str | None = None
    max_concurrency: int = 4

    def api_key(self) -> str | None:
        """The key from the environment variable named by `api_key_env`, read now (keys rotate)."""
        if self.api_key_env is None:
            return None  # litellm falls back to the provider's usual variable (OPENAI_API_KEY, ...)
        key = os.environ.get(self.api_key_env, "")
        if not key:
            raise ModelError("auth", f"environment variable {self.api_key_env} is not set", self.alias)
        return key

    def __repr__(self) -> str:
        return (
            f"ModelSpec(alias={self.alias!r}, model={self.model!r}, params={_redacted(self.params)!r}, "
            f"api_key_env={self.api_key_env!r}, max_concurrency={self.max_concurrency})"
        )


def _redacted(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with the values of secret-looking keys (also inside extra_headers) masked."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Mapping):
            shown[name] = _redacted(value)
        else:
            shown[name] = "***" if redaction.is_secret_name(name) else value
    return shown


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # the name the caller asked for (an alias or a litellm id)
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    seconds: float  # from getting a concurrency slot to the answer, retries included
    priced: bool = True  # False: litellm has no price for the model, so cost_usd (0) says nothing


@dataclass(frozen=True)
class Usage:
    """One call's consumption, as the ledger records it."""

    model: str
    stage: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    priced: bool = True

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class UsageTotals:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0  # calls whose cost is unknown: cost_usd leaves them out

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def of(cls, usages: Iterable[Usage]) -> UsageTotals:
        totals = cls()
        for usage in usages:
            totals.add(usage)
        return totals

    def add(self, usage: Usage) -> None:
        self.calls += 1
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cost_usd += usage.cost_usd
        self.unpriced_calls += not usage.priced


class UsageLedger:
    """Every answered call (empty answers too: their tokens were spent), with totals."""

    def __init__(self) -> None:
        self.records: list[Usage] = []

    def record(self, usage: Usage) -> None:
        self.records.append(usage)

    def totals(self) -> UsageTotals:
        return UsageTotals.of(self.records)

    @property
    def tokens(self) -> int:
        return self.totals().tokens

    @property
    def cost_usd(self) -> float:
        return self.totals().cost_usd


class ModelGateway:
    """Calls models by alias or litellm id.

    `timeout` is the default overall deadline of one `complete` call, retries and their waits
    included; it starts once the call has a concurrency slot, so queueing behind other calls of the
    same model does not eat into it. `retries` counts attempts after the first, for rate limits,
    5xx answers and connection failures. A Retry-After longer than `max_retry_wait` (or past the
    deadline) ends the call instead of retrying early against the server's wish. The token budget
    is checked before each call, so calls already in flight can overshoot it by their own usage.
    """

    def __init__(
        self,
        specs: Mapping[str, ModelSpec] | Iterable[ModelSpec] = (),
        *,
        ledger: UsageLedger | None = None,
        token_budget: int | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_wait: float = 30.0,
        local: ServerSettings | None = None,
    ) -> None:
        specs = specs.values() if isinstance(specs, Mapping) else specs
        self.specs: dict[str, ModelSpec] = {spec.alias: spec for spec in specs}
        self.ledger = ledger if ledger is not None else UsageLedger()
        self.token_budget = token_budget
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_wait = max_retry_wait
        self._slots: dict[str, asyncio.Semaphore] = {}
        self.local = local or ServerSettings()  # for local/ models; a model's own params override it
        for spec in self.specs.values():  # every exit of the engine redacts these from now on
            redaction.add_secret_names([spec.api_key_env])
            redaction.add_secret_values(redaction.secret_params(spec.params))

    def resolve(self, name: str) -> ModelSpec:
        """The spec for an alias, or one made on the fly for a litellm id; unknown_model otherwise."""
        if name in self.specs:
            return self.specs[name]
        if is_local(name):
            try:
                lookup(name)
            except LocalModelError as exc:
                raise ModelError("unknown_model", str(exc), name) from None
            return ModelSpec(alias=name, model=name, max_concurrency=1)
        if _is_litellm_model(_litellm(), name):
            return ModelSpec(alias=name, model=name)
        close = difflib.get_close_matches(name, list(self.specs), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        message = f"not a configured model alias{hint} nor a litellm model id such as 'openai/gpt-4o-mini'"
        raise ModelError("unknown_model", message, name)

    async def complete(
        self,
        model: str,
        messages: list[dict],
        *,
        stage: str = "",
        timeout: float | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        _litellm()  # import before any deadline starts: the first import takes seconds
        spec = self.resolve(model)
        if is_local(spec.model):
            spec = await _served(spec, self.local)
        async with self._slot(spec):
            self._check_budget(model)
            started = time.monotonic()
            response = await self._call_with_retries(
                spec, model, _without_secrets(messages, model), self.timeout if timeout is None else timeout, max_tokens
            )
            seconds = time.monotonic() - started
        return self._completion(model, stage, response, seconds)

    # -- one call, retried -------------------------------------------------------------------

    async def _call_with_retries(
        self, spec: ModelSpec, name: str, messages: list[dict], timeout: float, max_tokens: int | None
    ) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        key = spec.api_key()
        secret = key or spec.params.get("api_key")  # what must never show up in a message
        for attempt in range(self.retries + 1):
            remaining = deadline - loop.time()
            try:
                return await asyncio.wait_for(self._acompletion(spec, messages, key, remaining, max_tokens), remaining)
            except asyncio.TimeoutError:
                raise ModelError("timeout", f"no answer within {timeout:g} s", name) from None
            except Exception as exc:  # litellm raises many types; _classify maps each to a kind
                error = _classify(exc, spec, name, secret, timeout)
            wait = self._wait_before_retry(error, attempt, deadline - loop.time())
            if wait is None:
                if attempt:
                    error.message += f" (gave up after {attempt + 1} attempts)"
                raise error
            log.info("model %s: %s; retrying in %.1f s", name, error.message, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait_before_retry(self, error: ModelError, attempt: int, time_left: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not error.retryable or attempt >= self.retries:
            return None
        if error.retry_after is None:
            exponential = min(self.max_retry_wait, self.backoff * 2**attempt)
            wait = exponential * random.uniform(0.5, 1.0)  # jitter: retries of parallel calls spread out
        elif error.retry_after <= self.max_retry_wait:
            wait = error.retry_after + random.uniform(0, 0.1)  # never earlier than asked
        else:
            return None  # retrying before the server is ready would only be refused again
        return wait if wait < time_left else None

    async def _acompletion(
        self, spec: ModelSpec, messages: list[dict], key: str | None, timeout: float, max_tokens: int | None
    ) -> Any:
        arguments: dict[str, Any] = {
            **spec.params,
            "model": spec.model,
            "messages": messages,
            "timeout": timeout,
            "stream": False,
            # Retries are ours alone: num_retries stops litellm's, max_retries the openai SDK's.
            "num_retries": 0,
            "max_retries": 0,
        }
        if max_tokens is not None:
            arguments["max_tokens"] = max_tokens
        if key is not None:
            arguments["api_key"] = key
        return await _litellm().acompletion(**arguments)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _slot(self, spec: ModelSpec) -> asyncio.Semaphore:
        if spec.alias not in self._slots:
            self._slots[spec.alias] = asyncio.Semaphore(max(1, spec.max_concurrency))
        return self._slots[spec.alias]

    def _check_budget(self, name: str) -> None:
        if self.token_budget is None:
            return
        used = self.ledger.tokens
        if used >= self.token_budget:
            message = f"token budget of {self.token_budget} exhausted ({used} tokens used)"
            raise ModelError("budget_exceeded", message, name)

    def _completion(self, name: str, stage: str, response: Any, seconds: float) -> Completion:
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = _cost(_litellm(), response)
        priced = cost is not None
        cost = cost or 0.0
        self.ledger.record(Usage(name, stage, prompt_tokens, completion_tokens, cost, priced))
        text = _answer_text(response)
        if not text.strip():
            raise ModelError("empty_answer", "the model answered with no text", name)
        if len(text) > MAX_ANSWER_CHARS:
            log.warning("model %s answered %d characters; only %d are kept", name, len(text), MAX_ANSWER_CHARS)
            text = redaction.cap(text, MAX_ANSWER_CHARS)
        log.debug("model %s (%s): %d+%d tokens, $%.6f", name, stage, prompt_tokens, completion_tokens, cost)
        return Completion(text, name, prompt_tokens, completion_tokens, cost, seconds, priced)


# -- the local/ family ---------------------------------------------------------------------------


async def _served(spec: ModelSpec, defaults: ServerSettings) -> ModelSpec:
    """A local model's spec as litellm reaches it: its in-process server (started on first use) as an
    OpenAI-compatible endpoint, each answer capped at the settings' max_tokens. Unpriced, so its cost is 0."""
    own = {key: spec.params[key] for key in local_server.SETTING_KEYS if key in spec.params}
    settings = replace(defaults, **own)
    try:
        model = lookup(spec.model)
        # Loading the model blocks for about a second; the event loop (a language server) must not.
        base = await asyncio.to_thread(local_server.api_base, model, settings)
    except (LocalModelError, RuntimeError) as exc:
        raise ModelError("unreachable", str(exc), spec.alias) from None
    params = {key: value for key, value in spec.params.items() if key not in local_server.SETTING_KEYS}
    # The server checks no key, but the openai SDK refuses to send a request without one.
    params.update(api_base=base, api_key="local", max_tokens=settings.max_tokens)
    return ModelSpec(spec.alias, f"openai/{model.name}", params, None, spec.max_concurrency)


# -- litellm, imported on first use ------------------------------------------------------------

_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


def _litellm() -> ModuleType:
    """Import litellm on first use: it takes seconds, and a language server must start fast."""
    # Never fetch the price map from the network at import; the copy shipped with litellm is used.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    if not getattr(litellm, "_perforch_quieted", False):
        _quiet(litellm)
    return litellm


def _quiet(litellm: ModuleType) -> None:
    litellm.suppress_debug_info = True  # otherwise errors print() help text to stdout
    litellm.telemetry = False
    litellm.turn_off_message_logging = True
    from litellm import _logging

    for name in _LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        # litellm's handler writes records below WARNING to stdout, which is the language server's
        # protocol channel; records still reach the application's own handlers by propagation.
        logger.removeHandler(_logging.handler)
        if "LITELLM_LOG" not in os.environ:
            logger.setLevel(logging.WARNING)
    litellm._perforch_quieted = True


def with_keys_in_environment(models: Iterable[str]) -> list[str]:
    """The litellm ids among `models` whose provider's API key is set in the environment: what a user who
    configured no models can reach (litellm.validate_environment names each provider's variables)."""
    litellm = _litellm()
    return [model for model in models if _has_key(litellm, model)]


def _has_key(litellm: ModuleType, model: str) -> bool:
    try:
        return bool(litellm.validate_environment(model=model).get("keys_in_environment"))
    except Exception:  # a model litellm cannot place has no key we could know of
        return False


def _is_litellm_model(litellm: ModuleType, name: str) -> bool:
    if name in litellm.model_cost:
        return True
    try:
        litellm.get_llm_provider(name)
    except Exception:  # litellm says "not a model" with several exception types
        return False
    return True


def _without_secrets(messages: list[dict], model: str) -> list[dict]:
    """The last check before a request leaves: no known secret value goes to a model, whatever put it in a
    prompt (a test's output, a file the tests read). Such a value is replaced, and the user told where from."""
    cleaned = []
    for message in messages:
        content = message.get("content")
        found = redaction.known_secrets_in(content) if isinstance(content, str) else []
        if found:
            log.warning("a prompt for model %s held the value of %s; it was redacted", model, ", ".join(found))
            message = {**message, "content": redaction.redact_known(content)}
        cleaned.append(message)
    return cleaned


def _answer_text(response: Any) -> str:
    try:
        return response.choices[0].message.content or ""
    except (AttributeError, IndexError):
        return ""


def _cost(litellm: ModuleType, response: Any) -> float | None:
    """The call's price from litellm's map; None for models it does not price (local servers)."""
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # unpriced models raise; a missing price must never fail the call
        return None


# -- errors ------------------------------------------------------------------------------------


def _classify(exc: Exception, spec: ModelSpec, name: str, key: str | None, timeout: float) -> ModelError:
    """Map whatever litellm raised to a ModelError.

    The original cause decides, not litellm's mapped type: litellm reports a refused connection
    and a missing key as HTTP 500, which would otherwise be retried as a server error.
    """
    import openai

    causes = _causes(exc)
    detail = _redact(_detail(exc), key)
    status = getattr(exc, "status_code", None)
    if any(isinstance(cause, (openai.APITimeoutError, TimeoutError)) for cause in causes):
        return ModelError("timeout", f"no answer within {timeout:g} s", name)
    connection_error = next((c for c in causes if _is_connection_error(openai, c)), None)
    if connection_error is not None:
        reason = _redact(_detail(_causes(connection_error)[-1]) or detail, key)
        message = f"cannot reach {_safe_url(spec.params.get('api_base'))}: {reason}"
        # Refused means nothing listens there (a local server not started): retrying only delays
        # the news. Resets, drops and DNS hiccups are transient and worth another attempt.
        refused = any(isinstance(cause, ConnectionRefusedError) for cause in causes)
        return ModelError("unreachable", message, name, retryable=not refused)
    if any(isinstance(cause, json.JSONDecodeError) for cause in causes):
        return ModelError("server_error", f"the server answered with malformed JSON: {detail}", name)
    if type(causes[-1]) is openai.OpenAIError:  # refused by the SDK before any HTTP was sent
        kind: ErrorKind = "auth" if re.search(r"api_key|credential", detail, re.I) else "bad_request"
        return ModelError(kind, detail, name)
    return _from_status(status, detail, spec, name, causes)


def _from_status(
    status: int | None, detail: str, spec: ModelSpec, name: str, causes: list[BaseException]
) -> ModelError:
    if status == 429:
        retry_after = _retry_after(causes)
        if retry_after is not None:
            detail += f" (retry after {retry_after:g} s)"
        return ModelError(
            "rate_limited", f"rate limited (HTTP 429): {detail}", name, retryable=True, retry_after=retry_after
        )
    if status in (401, 403):
        where = f"; check the key in ${spec.api_key_env}" if spec.api_key_env else ""
        return ModelError("auth", f"authentication failed (HTTP {status}): {detail}{where}", name)
    if status == 408:
        return ModelError("timeout", f"request timed out (HTTP 408): {detail}", name)
    if status is not None and status >= 500:
        return ModelError("server_error", f"server error (HTTP {status}): {detail}", name, retryable=True)
    if status is not None and status >= 400:
        return ModelError("bad_request", f"request rejected (HTTP {status}): {detail}", name)
    kind_of_failure = type(causes[0]).__name__
    return ModelError("server_error", f"the call failed ({kind_of_failure}): {detail}", name)


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or during, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _is_connection_error(openai: ModuleType, exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, openai.APIConnectionError):
        # litellm's own APIConnectionError also wraps unrelated failures; only the SDK's is a socket.
        return not type(exc).__module__.startswith("litellm")
    return isinstance(exc, (ConnectionError, httpx.TransportError))


def _retry_after(causes: list[BaseException]) -> float | None:
    """Seconds from the first Retry-After (or OpenAI's retry-after-ms) header found on the errors."""
    for cause in causes:
        headers = getattr(cause, "litellm_response_headers", None) or getattr(
            getattr(cause, "response", None), "headers", None
        )
        if not headers:
            continue
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        seconds = _parse_retry_after(lowered.get("retry-after"), lowered.get("retry-after-ms"))
        if seconds is not None:
            return seconds
    return None


def _parse_retry_after(value: str | None, milliseconds: str | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    try:
        if milliseconds is not None:
            return max(0.0, float(milliseconds) / 1000)
    except ValueError:
        pass
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_LITELLM_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)?(?:\w+(?:Error|Exception)\s*(?::|-)\s*)*")


def _detail(exc: BaseException) -> str:
    """The first line of an error's own message, without litellm's class-name prefixes."""
    text = str(getattr(exc, "message", None) or exc)
    text = _LITELLM_PREFIX.sub("", text.strip()).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    return first_line[:300]


def _redact(text: str, key: str | None) -> str:
    return redaction.redact(text.replace(key, redaction.MARKER) if key else text)


def _safe_url(url: object) -> str:
    """`url` without user info, query or fragment, which can carry credentials."""
    if not isinstance(url, str) or not url:
        return "the provider"
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
