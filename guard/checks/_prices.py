"""The price table of cost ceilings: which model costs what (``rules/prices.yaml``).

Prices are data. A table is a list of model families, each with glob patterns of the
model names it covers, matched in order (first match wins), and a ``default`` for
names nothing matches. Amounts are kept as integers in **nano-dollars** (10^-9 USD) per
token: every price with up to three decimals per million tokens is exact, and the
stores add integers exactly.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guard._yaml import load_yaml
from guard._yaml_bools import bool_as_number
from guard.checks._tokens import IMAGE_TOKENS
from guard.errors import ConfigError
from guard.types import Usage

#: Nano-dollars in one USD.
NANO_PER_USD = 1_000_000_000
#: The metric label of models no entry names.
OTHER = "other"


class PriceEntry(BaseModel):
    """One model family's prices, USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    match: list[str] = Field(default_factory=list)
    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    #: Input written to the prompt cache (Anthropic: 1.25x input for 5-minute writes);
    #: default: the input price.
    cache_write: float | None = Field(default=None, ge=0)
    output: float = Field(ge=0)
    #: Audio tokens in and out (OpenAI's audio models); unset: the model is not priced
    #: for audio, and a budget with a USD ceiling refuses calls that send or ask for it.
    audio_input: float | None = Field(default=None, ge=0)
    audio_output: float | None = Field(default=None, ge=0)
    max_output_tokens: int = Field(default=4096, gt=0)
    #: Input tokens one image may cost at most on this model (default: 6,000, above what
    #: most models bill; ``gpt-4o-mini`` bills images ~33x dearer in tokens).
    image_tokens: int | None = Field(default=None, gt=0)


class PriceFile(BaseModel):
    """A prices file: ``models`` and optionally ``default``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[PriceEntry] = Field(default_factory=list)
    default: PriceEntry | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """A model's prices in nano-dollars per token (rounded up: never under-priced)."""

    model: str
    input: int
    cached_input: int
    output: int
    max_output_tokens: int
    cache_write: int
    #: Audio in and out (``None``: not priced for audio).
    audio_input: int | None = None
    audio_output: int | None = None
    #: Input tokens one image may cost at most.
    image_tokens: int = IMAGE_TOKENS

    @classmethod
    def of(cls, entry: PriceEntry) -> Price:
        cached = entry.input if entry.cached_input is None else entry.cached_input
        written = entry.input if entry.cache_write is None else entry.cache_write
        return cls(
            entry.model,
            _nano_per_token(entry.input),
            _nano_per_token(cached),
            _nano_per_token(entry.output),
            entry.max_output_tokens,
            _nano_per_token(written),
            None if entry.audio_input is None else _nano_per_token(entry.audio_input),
            None if entry.audio_output is None else _nano_per_token(entry.audio_output),
            entry.image_tokens or IMAGE_TOKENS,
        )

    def cost(self, usage: Usage) -> int:
        """Nano-dollars of a call at these prices (see :func:`token_cost`)."""
        return token_cost(
            usage, per_input=self.input, per_output=self.output, per_cached=self.cached_input,
            per_write=self.cache_write, per_audio_in=self.audio_input,
            per_audio_out=self.audio_output,
        )  # fmt: skip


def token_cost(
    usage: Usage,
    *,
    per_input: int,
    per_output: int,
    per_cached: int,
    per_write: int,
    per_audio_in: int | None = None,
    per_audio_out: int | None = None,
) -> int:
    """Nano-dollars of a call that used ``usage``: its input tokens (of which some were
    read from or written to the prompt cache, some audio) and output tokens (some audio;
    audio without an audio price is priced as text). The one pricing rule of budget
    settlement, the budget spend metric and ``guardwire_cost_usd_total``, so that they
    cannot drift apart."""
    input_tokens, output_tokens = usage.input_tokens, usage.output_tokens
    cached, written = usage.cached_input_tokens, usage.cache_write_tokens
    audio_in = min(usage.audio_input_tokens, input_tokens)
    audio_out = min(usage.audio_output_tokens, output_tokens)
    plain = max(input_tokens - cached - written - audio_in, 0)
    heard = per_input if per_audio_in is None else per_audio_in
    spoken = per_output if per_audio_out is None else per_audio_out
    return (
        plain * per_input + cached * per_cached + written * per_write + audio_in * heard
        + (output_tokens - audio_out) * per_output + audio_out * spoken
    )  # fmt: skip


def _nano_per_token(usd_per_million: float) -> int:
    # USD per million tokens x 1000 = nano-dollars per token; round() first so that
    # 0.075 * 1000 = 74.99999... is 75, ceil for prices finer than that.
    scaled = usd_per_million * 1000
    return round(scaled) if abs(scaled - round(scaled)) < 1e-6 else math.ceil(scaled)


class PriceTable:
    """Looks up a model name's price: the first matching entry, else the default."""

    def __init__(self, entries: Sequence[PriceEntry], default: PriceEntry | None) -> None:
        self._entries = [(entry.match or [entry.model], Price.of(entry)) for entry in entries]
        self.default = Price.of(default) if default is not None else None
        #: The metric labels of models: the table's names and ``other`` (a closed set).
        self.labels = frozenset([*(price.model for _, price in self._entries), OTHER])
        self._cache: dict[str, Price | None] = {}

    def lookup(self, model: str | None) -> Price | None:
        """The price of ``model`` from the table, ``None`` when no entry matches."""
        if not model:
            return None
        if model in self._cache:
            return self._cache[model]
        found = next(
            (price for patterns, price in self._entries
             if any(fnmatch.fnmatchcase(model, p) for p in patterns)),
            None,
        )  # fmt: skip
        if len(self._cache) < 4096:  # model names come from clients: bound the memory
            self._cache[model] = found
        return found

    def label(self, model: str | None) -> str:
        """The metric label of ``model``: its table name, or ``other``."""
        found = self.lookup(model)
        return found.model if found is not None else OTHER

    @classmethod
    def load(cls, *paths: str | Path) -> PriceTable:
        """Tables from files, the earlier ones matched first; the first ``default`` wins."""
        entries: list[PriceEntry] = []
        default: PriceEntry | None = None
        for path in paths:
            table = _read(Path(path))
            entries.extend(table.models)
            default = default or table.default
        return cls(entries, default)

    @classmethod
    def shipped(cls, extra: str | Path | None = None) -> PriceTable:
        """The shipped ``rules/prices.yaml``, extended by ``extra`` (matched first)."""
        from guard.policy import data_path

        shipped = data_path("rules", "prices.yaml")
        return cls.load(extra, shipped) if extra else cls.load(shipped)


def _read(path: Path) -> PriceFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"cannot read the prices file {path}; check the 'prices' path") from None
    try:
        data: Any
        data, _ = load_yaml(text, str(path))
        wrong = bool_as_number(PriceFile, data)
        if wrong is not None:  # pydantic would read it as 1 or 0
            where = ".".join(str(p) for p in wrong[0])
            raise ConfigError(
                f"the prices file {path} is invalid at '{where}': a price is a number,"
                " got a boolean"
            )
        return PriceFile.model_validate(data or {})
    except ConfigError:
        raise
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ConfigError(
            f"the prices file {path} is invalid at '{where}': {exc.errors()[0]['msg']}"
        ) from None
    except Exception as exc:
        kind = type(exc).__name__
        raise ConfigError(f"the prices file {path} is not valid YAML ({kind})") from None
