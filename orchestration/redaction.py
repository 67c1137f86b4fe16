"""Secrets out, size bounded: what every text leaving the engine goes through.

Whatever a candidate prints, a model answers or a provider says in an error may reach a user (progress,
`--json`, the language server) or the next model, possibly another provider's. `redact` replaces the value
of every key variable the user has (environment variables named like a secret, and each `api_key_env` a
configured model names) and anything shaped like a known kind of key with MARKER. `cap` keeps the head and
the tail of a long text and says how much was cut. `excerpt` does both, in that order, so no cut can leave
a fragment of a secret behind.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

MARKER = "[redacted]"
EXCERPT_CHARS = 4096  # of one failure excerpt or progress detail shown to a user or a model
MIN_SECRET_CHARS = 8  # shorter values ("1", "true") are not secrets, and would be redacted everywhere

# Names of variables that hold secrets: *_KEY, *_API_KEY, *TOKEN*, *SECRET*, *PASSWORD*, authorization...
_SECRET_NAME = re.compile(
    r"(?:^|[_-])(?:API[_-]?)?KEYS?(?:[_-]|$)|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|AUTHORIZATION|CREDENTIAL",
    re.IGNORECASE,
)

# Keys recognisable by their shape, whoever they belong to.
_KEY_SHAPES = re.compile(
    "|".join(
        (
            r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{16,}",  # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), Stripe-like
            r"\bAIza[0-9A-Za-z_\-]{30,}",  # Google API keys
            r"\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}",  # GitHub tokens
            r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack tokens
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
            r"\bhf_[A-Za-z0-9]{20,}",  # Hugging Face tokens
            r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",  # JSON web tokens
        )
    )
)
# Credentials after a scheme or a header name: the value goes, the name stays so the text still reads.
_CREDENTIAL_FIELDS = re.compile(
    r"(?P<name>\b(?-i:Bearer)\s+)[A-Za-z0-9._~+/\-]{12,}=*"
    r"|(?P<header>\b(?:Proxy-)?Authorization|\bx-api-key|\bapi-key|\bx-goog-api-key)"
    r"(?P<separator>[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+(?:[ \t]+[^\s\"',}]+)?",
    re.IGNORECASE,
)

_named: set[str] = set()  # variables named by the config (api_key_env), whatever their names look like
_values: set[str] = set()  # literal secrets from the config (a model's params)


def add_secret_names(names: Iterable[str | None]) -> None:
    """Treat these environment variables as secrets too (the `api_key_env` of every configured model)."""
    _named.update(name for name in names if name)


def add_secret_values(values: Iterable[Any]) -> None:
    """Treat these literal values as secrets too (a key written into a model's params)."""
    _values.update(value for value in values if isinstance(value, str) and len(value) >= MIN_SECRET_CHARS)


def secret_params(params: Mapping[str, Any]) -> list[str]:
    """The values of secret-named entries of `params`, also inside nested tables such as extra_headers."""
    found: list[str] = []
    for name, value in params.items():
        if isinstance(value, Mapping):
            found += secret_params(value)
        elif is_secret_name(name) and isinstance(value, str):
            found.append(value.split(" ", 1)[-1] if value.lower().startswith("bearer ") else value)
    return found


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def secret_values() -> dict[str, str]:
    """{value: where it comes from} of every known secret, read now (keys change while a server runs)."""
    found = {value: "a value in the config" for value in _values}
    for name, value in os.environ.items():
        if len(value) >= MIN_SECRET_CHARS and (name in _named or is_secret_name(name)):
            found[value] = f"${name}"
    return found


def redact(text: str) -> str:
    """`text` with every known secret value and every key-shaped word replaced by MARKER."""
    if not text:
        return text
    text = _KEY_SHAPES.sub(MARKER, redact_known(text))
    return _CREDENTIAL_FIELDS.sub(_keep_field_name, text)


def redact_known(text: str) -> str:
    """`text` with the known secret values replaced by MARKER; key-shaped words stay (a prompt may quote a
    test fixture that looks like a key, and the model needs it as it is)."""
    pattern = _values_pattern(frozenset(secret_values())) if text else None
    return pattern.sub(MARKER, text) if pattern is not None else text


def _keep_field_name(match: re.Match[str]) -> str:
    if match.group("name"):
        return match.group("name") + MARKER
    return match.group("header") + match.group("separator") + MARKER


@functools.lru_cache(maxsize=8)
def _values_pattern(values: frozenset[str]) -> re.Pattern[str] | None:
    if not values:
        return None
    # Longest first: a secret that contains another must go whole.
    return re.compile("|".join(re.escape(value) for value in sorted(values, key=len, reverse=True)))


def known_secrets_in(text: str) -> list[str]:
    """Where the known secret values found in `text` come from (e.g. "$OPENAI_API_KEY"); never the values."""
    return sorted({origin for value, origin in secret_values().items() if value in text})


def cap(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` if it fits in `limit` characters, else its head and tail around a marker saying what was cut."""
    if len(text) <= limit:
        return text
    keep = max(limit // 2, 1)
    cut = len(text) - 2 * keep
    return f"{text[:keep]}\n[... {cut} characters cut ...]\n{text[-keep:]}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` fit to show a user or a model: redacted, then capped."""
    # A huge text is first cut to a generous size, so redacting it stays cheap; the final cut then drops the
    # middle of that one, where a secret split by the first cut would be.
    return cap(redact(cap(text, 16 * limit)), limit)


class RedactingFormatter(logging.Formatter):
    """A log formatter whose output carries no secret, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
