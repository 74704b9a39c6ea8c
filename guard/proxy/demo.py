"""The demo model as the proxy's upstream (see :mod:`guard.demo`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from guard.demo import respond
from guard.proxy.http1 import Headers
from guard.proxy.upstream import UpstreamResponse


class DemoUpstream:
    """An :class:`~guard.proxy.upstream.Upstream` that never leaves the process."""

    name = "demo"

    async def request(
        self,
        method: str,
        path: str,
        headers: Headers,
        body: bytes,
        *,
        stream: bool,
    ) -> UpstreamResponse:
        # The demo model routes on the path alone (``?api-version=`` and the like).
        status, text_headers, content = respond(method, path.partition("?")[0], body)
        response_headers = [(k.encode(), v.encode()) for k, v in text_headers]
        if isinstance(content, list):
            return UpstreamResponse(status, response_headers, chunks=_iterate(content))
        return UpstreamResponse(status, response_headers, content)

    async def reachable(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


async def _iterate(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
