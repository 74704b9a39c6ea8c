"""What the sync and async guarded transports share (:mod:`guard.transport`): recognise
a model call, check it, and answer with the API's own responses."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from guard import formats
from guard._httpx import package_of
from guard._transport_blocked import note_block
from guard._transport_deadline import DEFAULT_TOTAL_TIMEOUT, checked_total_timeout
from guard.engine import Guard
from guard.errors import RequestError, UpstreamError
from guard.formats._json import UnreadableReply
from guard.formats.base import WireFormat, caller_from_headers
from guard.lifecycle import GuardedCall, retry_headers
from guard.stores.base import STORE_UNAVAILABLE
from guard.types import Call, Reply

_DROP = ("content-length", "content-encoding", "transfer-encoding")
#: Refusals that are no verdict on the content: ``x-guardwire-verdict: error``.
_ERROR_CODES = ("invalid_request", "request_too_large", STORE_UNAVAILABLE)
#: A call cut because its client (and so the guarded transport) was closed: the proxy's
#: ``shutdown`` outcome, answered with the same 503 ``shutting_down``.
CLOSED_MID_CALL = (
    "the guarded client was closed while this call was running, so its reply was not "
    "read; send it again on an open client"
)


class Prepared:
    """A request recognised as a model call, parsed, with its lifecycle opened."""

    __slots__ = ("call", "fmt", "lifecycle")

    def __init__(self, fmt: WireFormat, call: Call, lifecycle: GuardedCall) -> None:
        self.fmt = fmt
        self.call = call
        self.lifecycle = lifecycle


class GuardedTransport:
    """What the sync and async transports share: recognise, check and answer."""

    def __init__(
        self,
        guard: Guard,
        transport: Any,
        *,
        allow_unchecked: bool = False,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    ) -> None:
        self.guard = guard
        self._given = transport
        self._inner: dict[ModuleType, Any] = {}
        #: Send requests to model APIs guardwire does not check (legacy completions,
        #: embeddings, batches...) unchecked instead of refusing them.
        self.allow_unchecked = allow_unchecked
        #: Seconds a checked model call may take from its start to the last byte of its
        #: reply, streamed or not, reasks included (``None``: no deadline).
        self.total_timeout = checked_total_timeout(total_timeout)
        #: Set when the transport is closed (by its client): a call it cuts is counted as
        #: ``shutdown``, not as an upstream failure.
        self.closed = False

    def _prepare(self, request: Any, body: bytes) -> Prepared | Any:
        # Route on the raw path, the bytes that go out: a percent-escape is no way around.
        path = request.url.raw_path.partition(b"?")[0].decode("ascii", "replace")
        fmt = formats.for_path(path)
        if fmt is None:
            api = formats.unchecked_api(path)
            if api is not None and not self.allow_unchecked:
                return self._error(
                    request,
                    formats.get(
                        "anthropic.messages" if api.startswith("anthropic") else "openai.chat"
                    ),
                    404,
                    f"guardwire does not check the {api} API, so the guarded client does not "
                    "send it; pass allow_unchecked=True to guard.transport() to let it through "
                    "unchecked",
                    "unchecked_api",
                )
            return None
        try:
            call = fmt.parse_request(body, caller_from_headers(request.headers.get))
        except RequestError as exc:
            return self._error(request, fmt, exc.status, str(exc), exc.code)
        return Prepared(fmt, call, self.guard.open(call, frontend="transport"))

    def _error(
        self,
        request: Any,
        fmt: WireFormat,
        status: int,
        message: str,
        code: str,
        retry_after: float | None = None,
    ) -> Any:
        verdict = "error" if code in _ERROR_CODES else "block"
        headers = {"content-type": "application/json", "x-guardwire-verdict": verdict}
        headers.update(retry_headers(retry_after))
        return package_of(request).Response(
            status, headers=headers, content=fmt.error_body(status, message, code), request=request
        )

    def _upstream_failed(self, request: Any, fmt: WireFormat, exc: UpstreamError) -> Any:
        response = self._error(request, fmt, exc.status, str(exc), exc.code)
        response.headers["x-guardwire-verdict"] = "error"
        return response

    @staticmethod
    def _parse(fmt: WireFormat, call: Call, response: Any) -> Reply:
        """The upstream's reply; one it cannot read names its media type when not JSON."""
        try:
            return fmt.parse_reply(call, response.content)
        except UnreadableReply as unreadable:
            raise unreadable.declared(response.headers.get("content-type")) from None

    def _closed_mid_call(self, request: Any, fmt: WireFormat) -> Any:
        """The 503 ``shutting_down`` for a call cut by closing the transport; the SDK is
        told not to retry (its client is closed)."""
        response = self._error(request, fmt, 503, CLOSED_MID_CALL, "shutting_down")
        response.headers["x-guardwire-verdict"] = "error"
        response.headers["x-should-retry"] = "false"
        return response

    def _refused(self, request: Any, prepared: Prepared) -> Any:
        refusal = prepared.lifecycle.refusal
        assert refusal is not None
        note_block(request, refusal.decision)
        return self._error(
            request,
            prepared.fmt,
            refusal.status,
            refusal.message,
            refusal.code,
            refusal.retry_after,
        )

    def _forwarded(self, request: Any, body: bytes) -> Any:
        """The request to send on: the caller's own when nothing changed (the common
        case, and cheaper: building a request costs ~25 µs), else a rebuilt one."""
        names = request.headers.keys()
        if body is request.content and not any(n.startswith("x-guardwire") for n in names):
            return request
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if not name.lower().startswith("x-guardwire") and name.lower() != "content-length"
        ]
        return package_of(request).Request(
            request.method,
            request.url,
            headers=headers,
            content=body,
            extensions=request.extensions,
        )

    def _headers(self, response: Any, verdict: str) -> list[tuple[str, str]]:
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROP]
        headers.append(("x-guardwire-verdict", verdict))
        headers.append(("x-guardwire-policy", self.guard.policy_tag))
        return headers

    def _answer(self, request: Any, prepared: Prepared, last: Any) -> Any:
        """The checked reply (or the refusal) as the response the SDK reads."""
        lifecycle = prepared.lifecycle
        if lifecycle.refusal is not None:
            return self._refused(request, prepared)
        reply = lifecycle.reply
        assert reply is not None
        verdict = lifecycle.outcome().action.label
        if reply.body and lifecycle.attempts == 1:
            # The upstream's reply passes unchanged: hand back its (already read)
            # response with our headers instead of building another one.
            last.headers["x-guardwire-verdict"] = verdict
            last.headers["x-guardwire-policy"] = self.guard.policy_tag
            last.headers.update(lifecycle.ctx.response_headers)
            return last
        return package_of(request).Response(
            last.status_code,
            headers=self._headers(last, verdict) + list(lifecycle.ctx.response_headers.items()),
            content=prepared.fmt.reply_body(reply),
            request=request,
        )

    def _streamed(self, request: Any, prepared: Prepared, upstream: Any, stream: Any) -> Any:
        decision = prepared.lifecycle.input
        verdict = decision.action.label if decision is not None else "allow"
        return package_of(request).Response(
            upstream.status_code,
            headers=self._headers(upstream, verdict),
            stream=stream,
            request=request,
        )
