"""Who is calling: the authenticated principal, and what the client may assert below it.

Authentication (the proxy's client keys) yields a :class:`Principal`: a short digest of
the key and the key's tenant. A client may *assert* a tenant and a session
(``x-guardwire-tenant`` / ``x-guardwire-session`` headers, or the ``guardwire``
extension's ``tenant`` / ``session``), but only *below* the principal: with keys
configured an asserted tenant is nested under the key's tenant (``team-a/sub``) and can
never replace it, so budgets and audit lines keyed by tenant cannot be borrowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guard.errors import RequestError
from guard.types import Caller

#: Hex characters of the key's SHA-256 kept as its id: enough to tell keys apart in logs
#: and audit lines, far too few to help anyone guess the key.
KEY_ID_LENGTH = 12
_ASSERTED_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SESSION_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a key id (digest prefix) and the key's tenant."""

    key_id: str | None = None
    tenant: str | None = None

    @classmethod
    def from_digest(cls, digest: str, tenant: str | None) -> Principal:
        """The principal of a client key known by its SHA-256 hex digest."""
        return cls(digest[:KEY_ID_LENGTH], tenant)

    @property
    def authenticated(self) -> bool:
        """True when a configured client key identified the caller."""
        return self.key_id is not None


#: The caller when no client keys are configured (anyone may call).
ANONYMOUS = Principal()


def nested_tenant(principal: Principal, asserted: str | None) -> str | None:
    """The tenant of a call: the principal's, with the asserted one nested below it."""
    if asserted is not None and not _ASSERTED_TENANT.fullmatch(asserted):
        raise RequestError(
            "the asserted tenant (x-guardwire-tenant or guardwire.tenant) must be 1-64 "
            "letters, digits, '.', '_' or '-', starting with a letter or digit",
            code="invalid_tenant",
        )
    if principal.tenant is None:
        return asserted
    return principal.tenant if asserted is None else f"{principal.tenant}/{asserted}"


def bind_caller(principal: Principal, asserted: Caller) -> Caller:
    """The caller the engine sees: the principal's identity, client assertions below it."""
    session = asserted.session[:_SESSION_LENGTH] if asserted.session else None
    return Caller(
        key_id=principal.key_id,
        tenant=nested_tenant(principal, asserted.tenant),
        session=session,
        route=asserted.route,
    )
