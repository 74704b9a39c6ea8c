"""Which endpoint serves a request, decided on the raw request target.

The target the proxy forwards is the one it routes on: ``scope["raw_path"]`` (never the
percent-decoded ``scope["path"]``) plus the query string, validated against the
origin-form grammar of RFC 9112 section 3.2.1 first. A ``%0d%0a`` therefore stays three
harmless characters instead of becoming a line break on the upstream connection, and
``/v1/chat/completions%3F`` is not a way around the guarded route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from guard import formats
from guard.errors import RequestError
from guard.formats.base import WireFormat
from guard.proxy.asgi import Scope

# RFC 3986 pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
# origin-form = absolute-path [ "?" query ]; absolute-path = 1*( "/" segment )
_PATH = re.compile(rf"(?:/{_PCHAR}*)+".encode())
_QUERY = re.compile(rf"(?:{_PCHAR}|[/?])*".encode())
# A wildcard matches one plain segment: no percent-escapes (an upstream could decode
# "%2F" into a separator), no ";" parameters, and never "." or "..".
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,=:@]+")
_METHOD = re.compile(r"[A-Z]{3,10}")


@dataclass(frozen=True, slots=True)
class Target:
    """A validated origin-form request target, exactly as the client sent it."""

    path: str
    query: str

    @property
    def upstream(self) -> str:
        """What goes on the upstream request line (after the upstream's base path)."""
        return f"{self.path}?{self.query}" if self.query else self.path


def request_target(scope: Scope) -> Target:
    """The raw target of ``scope``; a 400 when it is not RFC 9112 origin-form."""
    raw_path = scope.get("raw_path")
    if raw_path is None:  # ASGI servers that omit it: the decoded path, still validated
        raw_path = scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    path = _cached_path(raw_path) if len(raw_path) <= _CACHED_PATH_LENGTH else _path(raw_path)
    if query and not _QUERY.fullmatch(query):
        raise _invalid_target()
    return Target(path, query.decode("ascii"))


#: Clients call a handful of paths: those this short are validated once (the cache holds
#: at most 256 of them, so at most 64 KiB of keys).
_CACHED_PATH_LENGTH = 256


def _path(raw_path: bytes) -> str:
    if not _PATH.fullmatch(raw_path):
        raise _invalid_target()
    return raw_path.decode("ascii")


_cached_path = lru_cache(maxsize=256)(_path)


def _invalid_target() -> RequestError:
    return RequestError(
        "the request target is not a valid URL path: percent-encode spaces, control, "
        "non-ASCII and reserved characters (RFC 9112 origin-form)",
        code="invalid_request_target",
    )


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """One ``passthrough`` entry: a method and a path whose ``*`` segments are wildcards."""

    method: str
    segments: tuple[str, ...]
    #: The entry as written (the route template in the access log).
    text: str

    def matches(self, method: str, path: str) -> bool:
        """True when ``method`` and the raw ``path`` match exactly (case-sensitive)."""
        if method != self.method:
            return False
        parts = path.split("/")[1:]
        wanted = self.segments
        if wanted and wanted[-1] == "**":
            if len(parts) < len(wanted):
                return False
            head, tail = parts[: len(wanted) - 1], parts[len(wanted) - 1 :]
            return _segments_match(wanted[:-1], head) and all(map(_plain, tail))
        return len(parts) == len(wanted) and _segments_match(wanted, parts)


def _plain(segment: str) -> bool:
    return segment not in (".", "..") and bool(_PLAIN_SEGMENT.fullmatch(segment))


def _segments_match(wanted: tuple[str, ...], parts: list[str]) -> bool:
    return all(
        part == want if want != "*" else _plain(part)
        for want, part in zip(wanted, parts, strict=True)
    )


def parse_route_pattern(entry: str) -> RoutePattern:
    """Parse ``"GET /v1/files/*"``; a ``ValueError`` says what is wrong with the entry."""
    method, _, path = entry.strip().partition(" ")
    path = path.strip()
    if not _METHOD.fullmatch(method) or not path.startswith("/"):
        raise ValueError(
            f"passthrough entry {entry!r} must be 'METHOD /path', e.g. 'GET /v1/models'"
        )
    segments = tuple(path.split("/")[1:])
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "*" or (segment == "**" and last):
            continue
        if "*" in segment or not _plain(segment):
            raise ValueError(
                f"passthrough entry {entry!r} has an invalid path segment {segment!r} "
                "(plain segments, '*' for one segment, a final '**' for the rest)"
            )
    return RoutePattern(method, segments, f"{method} {path}")


class Kind(Enum):
    """What serves a request."""

    MODEL_CALL = "model_call"
    PASSTHROUGH = "passthrough"
    HEALTHZ = "healthz"
    READYZ = "readyz"
    METRICS = "metrics"
    APPROVAL = "approval"
    CHECK = "check"
    APPROVALS = "approvals"
    UNCHECKED_API = "unchecked_api"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Route:
    """The router's answer: the endpoint kind, its template and the wire format."""

    kind: Kind
    #: A value-free name for logs: the format, the passthrough entry, or the kind.
    template: str
    fmt: WireFormat | None = None


_OPERATIONS = {"/healthz": Kind.HEALTHZ, "/readyz": Kind.READYZ, "/metrics": Kind.METRICS}


class RouteTable:
    """Guarded model APIs first, then operations, then the pass-through allow-list."""

    def __init__(self, passthrough: list[str]) -> None:
        self.passthrough = [parse_route_pattern(entry) for entry in passthrough]

    def route(self, method: str, target: Target) -> Route:
        """The route for ``method`` on the validated ``target``."""
        path = target.path
        fmt = formats.for_path(path)
        if fmt is not None and method == "POST":
            return Route(Kind.MODEL_CALL, fmt.name, fmt)
        if method == "POST" and path.startswith("/guardwire/v1/approvals/"):
            return Route(Kind.APPROVAL, "/guardwire/v1/approvals/{id}")
        if method == "POST" and path == "/guardwire/v1/check":
            return Route(Kind.CHECK, path)
        if method == "GET" and path == "/guardwire/v1/approvals":
            return Route(Kind.APPROVALS, "/guardwire/v1/approvals")
        operation = _OPERATIONS.get(path)
        if operation is not None and method in ("GET", "HEAD"):
            return Route(operation, path)
        for pattern in self.passthrough:
            if pattern.matches(method, path):
                return Route(Kind.PASSTHROUGH, pattern.text, fmt)
        if fmt is not None:  # a model API path, with another method than POST
            return Route(Kind.METHOD_NOT_ALLOWED, fmt.name, fmt)
        api = unchecked_api(path) if method == "POST" else None
        if api is not None:
            return Route(Kind.UNCHECKED_API, api)
        return Route(Kind.NOT_FOUND, "not_found")


def unchecked_api(path: str) -> str | None:
    """The name of a known model API that guardwire does not check, served at ``path``."""
    return formats.unchecked_api(path)
