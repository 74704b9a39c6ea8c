"""The proxy's ASGI middleware, each one job, composed in :mod:`guard.proxy.app`.

Outermost first: :class:`RequestContextMiddleware` (the request's context and id, and
one value-free access line), :class:`ApiErrorMiddleware` (errors rendered in the API's
shape, aware of whether the response already started) and :class:`AuthMiddleware` (the
:class:`~guard.identity.Principal` in ``scope["state"]``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guard import formats
from guard.engine import new_request_id
from guard.errors import GuardError, RequestError, UpstreamError
from guard.formats._responses_sequence import last_number, numbered_after
from guard.formats.base import WireFormat
from guard.identity import ANONYMOUS, Principal
from guard.proxy.asgi import ClientDisconnected, Message, Receive, Scope, Send, header
from guard.proxy.responses import guard_headers, send_error

if TYPE_CHECKING:
    from guard.engine import Guard
    from guard.proxy.routing import Route

log = logging.getLogger("guardwire.proxy")
access_log = logging.getLogger("guardwire.access")

ASGIApp = Any  # an ASGI callable (scope, receive, send) -> None
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
#: The one API whose stream events carry a ``sequence_number`` (an error event follows it).
_NUMBERED_EVENTS = formats.get("openai.responses")


@dataclass(slots=True)
class RequestContext:
    """What the layers learn about one request; never holds a value from it."""

    request_id: str
    started: float
    route: Route | None = None
    #: Name of the upstream the request went to (for logs).
    upstream: str | None = None
    status: int = 0
    #: The call's outcome (``allowed``, ``blocked``...; ``-`` when not a model call).
    outcome: str = "-"

    @property
    def fmt(self) -> WireFormat | None:
        """The wire format of the route, when it is a model API."""
        return self.route.fmt if self.route is not None else None


def context_of(scope: Scope) -> RequestContext:
    """The request's context (set by :class:`RequestContextMiddleware`)."""
    context: RequestContext = scope["state"]["guardwire"]
    return context


class RequestContextMiddleware:
    """Gives each request its context and id, and writes its access line when it ends.

    The id is the client's ``x-request-id`` when it is sane, else a new one. The access
    line, at ``info`` on ``guardwire.access``: method, route template, status, outcome,
    latency, upstream name and request id (a stream that broke half way shows as a 200
    with the outcome ``upstream_error`` and the upstream's name). Never the raw path,
    query, headers or body: the template names the route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_id = header(scope, b"x-request-id")
        request_id = raw_id.decode() if raw_id and _REQUEST_ID.match(raw_id) else new_request_id()
        context = RequestContext(request_id, time.perf_counter())
        scope.setdefault("state", {})["guardwire"] = context
        try:
            await self.app(scope, receive, send)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                route = context.route.template if context.route is not None else "invalid"
                access_log.info(
                    "%s %s %d %s %.1fms upstream=%s request_id=%s",
                    scope["method"],
                    route,
                    context.status,
                    context.outcome,
                    (time.perf_counter() - context.started) * 1000,
                    context.upstream or "-",
                    context.request_id,
                )


class _Response:
    """What has been sent so far (for errors raised part way through a response)."""

    __slots__ = ("finished", "last_number", "numbered", "started", "streaming")

    def __init__(self) -> None:
        self.started = self.streaming = self.finished = False
        #: A Responses API stream: its events carry a ``sequence_number``.
        self.numbered = False
        #: The ``sequence_number`` of the last event streamed (Responses API streams).
        self.last_number: int | None = None


class ApiErrorMiddleware:
    """Renders errors in the calling API's shape; after the response started, ends it.

    Before ``http.response.start`` an error is a complete error response. After it (a
    stream), a second start would break the connection (core review D16): the stream
    is ended with the format's error event instead, so SDKs raise a normal API error.
    """

    def __init__(self, app: ASGIApp, *, policy: bytes) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _Response()
        context = context_of(scope)

        async def tracking_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                response.started = True
                context.status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"content-type":
                        response.streaming = value.startswith(b"text/event-stream")
                        break
                # Only the Responses API numbers its events: other streams are not read.
                response.numbered = response.streaming and context.fmt is _NUMBERED_EVENTS
            elif kind == "http.response.body":
                body = message.get("body")
                if response.numbered and body:
                    number = last_number(body)
                    if number is not None:
                        response.last_number = number
                if not message.get("more_body", False):
                    response.finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnected:
            return
        except Exception as exc:  # never crash the server; never log values
            status, message, code = _describe(exc, context)
            fmt = context.fmt or _shape_for(scope)
            if not response.started:
                headers = guard_headers(context.request_id, "error", self.policy)
                await send_error(tracking_send, fmt, status, message, code, headers)
            elif response.streaming and not response.finished:
                await send(
                    {
                        "type": "http.response.body",
                        # (The Responses API numbers its events: this one follows.)
                        "body": numbered_after(
                            fmt.stream_error(message, code), response.last_number
                        ),
                        "more_body": True,
                    }
                )
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # A complete response that failed half way: uvicorn closes the connection.


def _shape_for(scope: Scope) -> WireFormat:
    """The API whose error shape fits a request no route recognised."""
    name = "anthropic.messages" if header(scope, b"anthropic-version") else "openai.chat"
    return formats.get(name)


def _describe(exc: Exception, context: RequestContext) -> tuple[int, str, str]:
    """Status, message and code for an error; logs what operators need (no values)."""
    if isinstance(exc, RequestError):
        return exc.status, str(exc), exc.code
    if isinstance(exc, UpstreamError):
        log.warning(
            "upstream %s: %d %s (request %s)",
            context.upstream or "-",
            exc.status,
            exc.code,
            context.request_id,
        )
        return exc.status, str(exc), exc.code
    if isinstance(exc, GuardError):
        log.error("guardwire error %s (request %s)", type(exc).__name__, context.request_id)
        return 500, str(exc), "guardwire_error"
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("internal error %s (request %s)\n%s", type(exc).__name__, context.request_id, frames)
    return 500, "internal error in guardwire", "internal_error"


class Client:
    """What a client key maps to: its principal, engine (policy) and policy header."""

    __slots__ = ("guard", "policy", "principal")

    def __init__(self, guard: Guard, principal: Principal) -> None:
        self.guard = guard
        self.principal = principal
        self.policy = guard.policy_tag.encode()


class AuthMiddleware:
    """Identifies the caller by its key; puts ``principal`` and ``client`` in scope state.

    It never refuses a request itself: endpoints that need a known caller call
    :func:`authenticated_client` (operations endpoints stay open).
    """

    def __init__(self, app: ASGIApp, *, clients: dict[str, Client], default: Client) -> None:
        self.app = app
        self.clients = clients
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client: Client | None = self.default
        if self.clients:
            token = header(scope, b"x-api-key")
            authorization = header(scope, b"authorization")
            if authorization is not None and authorization[:7].lower() == b"bearer ":
                token = authorization[7:].strip()
            client = self.clients.get(hashlib.sha256(token).hexdigest()) if token else None
        state = scope["state"]
        state["client"] = client
        state["principal"] = client.principal if client is not None else ANONYMOUS
        await self.app(scope, receive, send)


def authenticated_client(scope: Scope) -> Client:
    """The caller's client; 401 when keys are configured and the key is missing or unknown."""
    client: Client | None = scope["state"].get("client")
    if client is None:
        raise RequestError(
            "missing or unknown API key for this guardwire proxy",
            status=401,
            code="invalid_api_key",
        )
    return client
