"""Audio in a chat call, priced at the price table's audio prices.

OpenAI's audio models price audio tokens far above text (``gpt-4o-audio-preview``: $80
per million audio output tokens, $10 for text). A call that asks for audio
(``modalities: ["text", "audio"]`` or an ``audio`` output setting) is reserved with its
output at the audio output price; a call that sends audio (``input_audio`` parts, or an
earlier assistant reply's audio by ``id``) with its input at the audio input price. The
settlement prices the audio tokens the usage reports (``*_tokens_details.audio_tokens``)
at those prices and the rest as text. A model the table gives no audio price is refused
by a budget with a USD ceiling rather than priced by a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from guard.types import Action, Finding, Verdict

if TYPE_CHECKING:
    from guard.checks._budget_config import BudgetConfig, CallHold
    from guard.checks._prices import Price
    from guard.types import Call


def audio_of(raw: Any) -> tuple[bool, bool]:
    """Whether chat request ``raw`` sends audio, and whether it asks for audio."""
    if not isinstance(raw, dict):
        return False, False
    modalities = raw.get("modalities")
    asks = isinstance(raw.get("audio"), dict) or (
        isinstance(modalities, list) and "audio" in modalities
    )
    messages = raw.get("messages")
    return type(messages) is list and _sends_audio(messages), asks


def _sends_audio(messages: list[Any]) -> bool:
    for message in messages:
        if type(message) is not dict:
            continue
        if "audio" in message and type(message["audio"]) is dict:  # an earlier reply's, by id
            return True
        content = message.get("content")
        if type(content) is list:  # most messages are one string
            for part in content:
                if type(part) is dict and part.get("type") == "input_audio":
                    return True
    return False


def price_audio(
    check: str, budgets: Sequence[BudgetConfig], call: Call, price: Price, state: CallHold
) -> Verdict | None:
    """Set ``state``'s audio prices for the audio ``call`` sends or asks for; a refusal
    when a budget with a USD ceiling applies and the table has no such price."""
    if call.format != "openai.chat":
        return None
    sends, asks = audio_of(call.raw)
    if not (sends or asks):
        return None
    missing = (sends and price.audio_input is None) or (asks and price.audio_output is None)
    if missing:
        ceiling = next((b for b in budgets if b.limit_usd), None)
        if ceiling is not None:
            return unpriced_audio_verdict(check, ceiling.name, "asks for" if asks else "sends")
        return None  # a token or request budget counts audio tokens like any other
    if sends:
        state.price_audio_in = price.audio_input
    if asks:
        state.price_audio_out = price.audio_output
    return None


def unpriced_audio_verdict(check: str, budget: str, does: str) -> Verdict:
    """The 400 of a call with audio its model has no audio price for."""
    reason = (
        f"budget '{budget}' cannot price this request: it {does} audio and the price table"
        " has no audio price for its model; add audio_input and audio_output to the"
        " model's entry in the prices file"
    )
    finding = Finding(check, "unpriced_audio", action=Action.BLOCK, rule=budget)
    return Verdict(check, Action.BLOCK, (finding,), reason=reason, status=400,
                   code="budget_unpriced_audio")  # fmt: skip
