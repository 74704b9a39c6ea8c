"""Client connections bounded: a request-header timeout and a connection cap.

uvicorn bounds idle keep-alive connections but not a client that sends its request
headers slowly (one line every few seconds keeps a connection open forever), and its
``limit_concurrency`` answers a plain-text 503. This protocol (passed to uvicorn as
``http=``) arms a timer from a connection's first moment, and from the first byte of
each later request, until the headers are complete: past ``header_timeout`` the client
gets a 408 in the API's JSON shape and the connection closes. Past ``max_connections``
open connections a request gets a JSON 503 with ``retry-after``; a request httptools
cannot parse gets a JSON 400 instead of uvicorn's plain-text one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from guard import formats
from guard.proxy.config import ServerConfig

log = logging.getLogger("guardwire.proxy")

_DEFAULTS = ServerConfig()


def _server_config(app: Any) -> ServerConfig:
    """The guardwire config behind uvicorn's loaded app (through any wrapping middleware)."""
    for _ in range(8):
        config = getattr(app, "config", None)
        if isinstance(config, ServerConfig):
            return config
        app = getattr(app, "app", None)
    return _DEFAULTS


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout and a connection cap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = _server_config(self.app)
        self.header_timeout = config.header_timeout
        self.max_connections = config.max_connections
        self._header_timer: asyncio.TimerHandle | None = None
        self._over_capacity = False
        #: Set once this protocol answered and closed: the parser may still call back
        #: with the rest of the buffer, which must not reach a (missing) request cycle.
        self._answered = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._over_capacity = len(self.connections) > self.max_connections
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        if self._over_capacity:
            log.warning(
                "refused a request: %d connections open (max_connections %d)",
                len(self.connections),
                self.max_connections,
            )
            self._answer_and_close(
                503,
                f"guardwire is at its limit of {self.max_connections} open connections "
                "(max_connections); retry shortly",
                "overloaded",
                retry_after=True,
            )
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._answered:
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse: a JSON 400 like every other error."""
        self._disarm_header_timer()
        self._answer_and_close(
            400,
            "the request is not valid HTTP/1.1: check the request line (a percent-encoded "
            "path) and the headers",
            "invalid_request",
        )

    def _arm_header_timer(self) -> None:
        if self._header_timer is None and not self._answered:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is in flight on this connection; its own limits apply
        log.info(
            "closed a connection whose request headers did not arrive within %g s",
            self.header_timeout,
        )
        self._answer_and_close(
            408,
            f"the request headers did not arrive within {self.header_timeout:g} s",
            "request_timeout",
        )

    def _answer_and_close(
        self, status: int, message: str, code: str, *, retry_after: bool = False
    ) -> None:
        anthropic = any(name == b"anthropic-version" for name, _ in self.headers or ())
        fmt = formats.get("anthropic.messages" if anthropic else "openai.chat")
        body = fmt.error_body(status, message, code)
        reason = {400: b"Bad Request", 408: b"Request Timeout", 503: b"Service Unavailable"}[status]
        head = [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"retry-after: 1\r\n" if retry_after else b"",
            b"connection: close\r\n\r\n",
        ]
        self._answered = True
        self.transport.write(b"".join(head) + body)
        self.transport.close()
