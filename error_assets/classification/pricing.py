"""List prices per model, so every LLM classification carries its cost.

Source: Anthropic's pricing page and model overview pages (platform.claude.com/docs,
"Pricing" and "Models"), read on 2026-11-28. USD per million tokens; the 5-minute cache
write rate is used because the classifier's `cache_control` is the default ephemeral one.
The Message Batches API halves input and output (cache rates included) for every model.
Haiku 5.5's rates are its short-prompt tier (prompts up to 100K tokens), which is the only
tier this classifier can reach (`max_error_length` bounds every prompt far below it).

Update this table when prices change, and say the date above.
"""

from __future__ import annotations

from dataclasses import dataclass

from error_assets.models import TokenUsage

PRICES_AS_OF = "2026-11-28"
BATCH_DISCOUNT = 0.5


@dataclass(frozen=True, slots=True)
class ModelPrice:
    input: float
    output: float
    cache_write: float
    cache_read: float

    def cost(self, usage: TokenUsage, *, batch: bool = False) -> float:
        """USD for one request's usage (input_tokens excludes the cached prefix, as the API reports)."""
        total = (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_tokens * self.cache_write
            + usage.cache_read_tokens * self.cache_read
        ) / 1_000_000
        return total * (BATCH_DISCOUNT if batch else 1.0)


def _price(input_: float, output: float, cache_read: float | None = None) -> ModelPrice:
    # Cache writes cost 1.25x input; reads 0.1x unless the model's page says otherwise.
    return ModelPrice(
        input=input_,
        output=output,
        cache_write=round(input_ * 1.25, 6),
        cache_read=input_ * 0.1 if cache_read is None else cache_read,
    )


PRICES: dict[str, ModelPrice] = {
    "claude-haiku-5-5": _price(0.10, 0.50, cache_read=0.01),
    "claude-sonnet-5-5": _price(2.0, 10.0, cache_read=0.20),
    "claude-sonnet-5": _price(2.0, 10.0, cache_read=0.20),
    "claude-opus-5-5": _price(4.0, 20.0),
    "claude-opus-5": _price(5.0, 25.0, cache_read=0.50),
    "claude-fable-5-1": _price(10.0, 50.0, cache_read=0.25),
    "claude-mythos-5-1": _price(10.0, 50.0, cache_read=0.25),
    "claude-fable-5": _price(10.0, 50.0, cache_read=1.0),
    "claude-mythos-5": _price(10.0, 50.0, cache_read=1.0),
    "claude-opus-4-8": _price(5.0, 25.0, cache_read=0.50),
    "claude-opus-4-7": _price(5.0, 25.0, cache_read=0.50),
    "claude-opus-4-6": _price(5.0, 25.0, cache_read=0.50),
    "claude-opus-4-5": _price(5.0, 25.0, cache_read=0.50),
    "claude-sonnet-4-6": _price(3.0, 15.0, cache_read=0.30),
    "claude-sonnet-4-5": _price(3.0, 15.0, cache_read=0.30),
    "claude-haiku-4-5": _price(1.0, 5.0, cache_read=0.10),
}


class UnknownModelPriceError(KeyError):
    """No list price is known for a model: refuse to spend money we cannot account for."""


def price_for(model: str) -> ModelPrice:
    """The price of `model`, also for dated snapshots ("claude-haiku-4-5-20251001")."""
    if model in PRICES:
        return PRICES[model]
    for name in sorted(PRICES, key=len, reverse=True):
        if model.startswith(name + "-") and model[len(name) + 1 :].isdigit():
            return PRICES[name]
    raise UnknownModelPriceError(
        f"no list price for model {model!r}; add it to error_assets/classification/pricing.py"
    )


def cost_usd(model: str, usage: TokenUsage, *, batch: bool = False) -> float:
    return price_for(model).cost(usage, batch=batch)
