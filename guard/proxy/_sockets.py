"""Socket-level checks of the upstream pool's connections: a request the peer never
acknowledges is cut after the connect timeout, and an idle connection the server closed
is seen before it is reused (:mod:`guard.proxy.http1`)."""

from __future__ import annotations

import select
import socket

from guard.proxy.connection import Connection


def bound_unacknowledged_data(connection: Connection, seconds: float) -> None:
    """Abort the connection when sent bytes stay unacknowledged for ``seconds`` (>= 0.5).

    When a server's accept queue overflows, Linux completes the handshake on the client's
    side but drops what follows: the request is written into a connection the server does
    not know, and nothing answers until the read timeout (minutes). TCP_USER_TIMEOUT turns
    that into an error after the connect timeout. A server that accepted acknowledges the
    request at once (its kernel does, however long the model thinks), so a slow model
    call is not affected.
    """
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    transport = connection.transport
    transport_socket = transport.get_extra_info("socket") if transport is not None else None
    if option is None or transport_socket is None:  # pragma: no cover - Linux has both
        return
    try:
        milliseconds = max(500, int(seconds * 1000))
        transport_socket.setsockopt(socket.IPPROTO_TCP, option, milliseconds)
    except OSError:  # pragma: no cover - not a TCP socket
        pass


def alive(connection: Connection, *, plain: bool) -> bool:
    """False when the server closed the idle connection (or sent bytes on plain TCP)."""
    if connection.closed or connection.transport is None:
        return False
    transport_socket = connection.transport.get_extra_info("socket")
    if transport_socket is None:  # pragma: no cover - every transport here has a socket
        return True
    # The loop may not have delivered a FIN that already arrived: ask the kernel. A
    # zero-timeout poll costs ~1 µs (select() would fail past file descriptor 1023); the
    # peek below only runs when something is there.
    poller = select.poll()
    try:
        poller.register(transport_socket.fileno(), select.POLLIN)
        if not poller.poll(0):
            return True
    except (OSError, ValueError):
        return False
    if plain:
        return False  # end of file, or bytes nobody asked for: unusable either way
    # TLS may legitimately have records pending (session tickets): only EOF is fatal. The
    # loop's socket wrapper has no recv(), so peek through a borrowed socket object.
    sock = socket.socket(fileno=transport_socket.fileno())
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        return False
    finally:
        sock.detach()
