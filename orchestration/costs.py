"""What a model call costs, before and after it is made.

Prices come from litellm's price map, or from the `input_cost_per_token` / `output_cost_per_token` a
`[models.<alias>]` table gives (litellm registers those for the model on each call, and prices its answers by
them). A model litellm cannot price is *unpriced*: its cost is None, never $0, so that a cap is never kept by
pretending; a local model (`local/...`) runs on this machine and is free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# What a call's answer is expected to take when the call sets no max_tokens: a whole function with its
# imports and helpers fits (the longest HumanEval answer of the local model took 583 tokens).
EXPECTED_ANSWER_TOKENS = 1024
PRICE_KEYS = ("input_cost_per_token", "output_cost_per_token")


@dataclass(frozen=True)
class CallEstimate:
    """The expected cost of one call: its prompt counted, its answer at most `answer_tokens`."""

    prompt_tokens: int
    answer_tokens: int
    cost_usd: float | None  # None: unpriced

    @property
    def priced(self) -> bool:
        return self.cost_usd is not None


def estimate(
    litellm: ModuleType,
    model: str,
    params: Mapping[str, Any],
    messages: list[dict],
    max_tokens: int | None = None,
    *,
    free: bool = False,
) -> CallEstimate:
    """The call's expected cost: the prompt's tokens by litellm's token counter, the answer's at its cap
    (`max_tokens`, the model's own max_tokens, else EXPECTED_ANSWER_TOKENS)."""
    prompt = _prompt_tokens(litellm, model, messages)
    answer = max_tokens or _int(params.get("max_tokens")) or EXPECTED_ANSWER_TOKENS
    return CallEstimate(prompt, answer, 0.0 if free else price(litellm, model, params, prompt, answer))


def price(litellm: ModuleType, model: str, params: Mapping[str, Any], prompt: int, answer: int) -> float | None:
    """Dollars for `prompt` + `answer` tokens of `model`; None when neither the config nor litellm prices it."""
    given = [params.get(key) for key in PRICE_KEYS]
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in given):
        return float(given[0]) * prompt + float(given[1]) * answer
    try:
        prompt_cost, answer_cost = litellm.cost_per_token(model=model, prompt_tokens=prompt, completion_tokens=answer)
    except Exception:  # litellm says "not mapped" with several exception types
        return None
    return float(prompt_cost) + float(answer_cost)


def answered_cost(litellm: ModuleType, response: Any, *, free: bool = False) -> float | None:
    """An answer's cost from litellm's price map (custom prices included); None when it cannot price it."""
    if free:
        return 0.0
    try:
        cost = litellm.completion_cost(completion_response=response)
    except Exception:  # unpriced models raise; a missing price must never fail the call
        return None
    return float(cost) if cost is not None else None


def shown(cost_usd: float, unpriced_calls: int = 0) -> str:
    """`$0.0123`, or `$0.0123 + 2 unpriced calls`: unpriced calls are never shown as $0."""
    money = f"${cost_usd:.4f}"
    if unpriced_calls:
        plural = "s" if unpriced_calls != 1 else ""
        return f"{money} + {unpriced_calls} unpriced call{plural}"
    return money


def _prompt_tokens(litellm: ModuleType, model: str, messages: list[dict]) -> int:
    try:
        return int(litellm.token_counter(model=model, messages=messages))
    except Exception:  # a tokenizer litellm cannot load: about four characters a token
        return sum(len(str(message.get("content") or "")) for message in messages) // 4 + 1


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@dataclass(frozen=True)
class JobEstimate:
    """What a run is expected to cost before it starts: its first pass (each stage's first model succeeds) and
    the most it may ask (every slot of every stage), each call at its expected cost (`estimate`)."""

    first_pass_usd: float
    first_pass_calls: int
    at_most_usd: float
    at_most_calls: int
    unpriced: tuple[str, ...] = ()  # models on the route nothing prices (left out of the sums)

    def text(self, caps: Mapping[str, float] | None = None) -> str:
        line = (
            f"estimate: about ${self.first_pass_usd:.4f} if the first draft passes ({self.first_pass_calls} calls), "
            f"at most ${self.at_most_usd:.4f} ({self.at_most_calls} calls)"
        )
        if self.unpriced:
            line += f"; unpriced, not counted: {', '.join(self.unpriced)}"
        if caps:
            line += "; cap " + ", ".join(f"${usd:.4f} {what}" for what, usd in caps.items())
        return line
