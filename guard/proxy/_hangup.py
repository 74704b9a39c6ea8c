"""SIGHUP held back, not lost, while a process cannot act on it yet.

A process that has read its policy files but has not installed its SIGHUP handler yet
cannot reload, and SIGHUP's default action would end it. Ignoring or only logging the
signal there loses it: with ``reload_interval: 0`` the process would serve the old
policy until the next SIGHUP. A *blocked* signal instead stays pending and is delivered
the moment it is unblocked, so:

- ``guardwire serve`` blocks SIGHUP from its start: from the package's first import
  (:mod:`guard._cli_start`), and again in :func:`hangups_held`; worker processes
  inherit the blocked mask when they are started (it survives fork and exec);
- a worker unblocks it right after installing its handler (:func:`release_hangups`),
  and a SIGHUP that came in meanwhile reloads it then;
- the supervisor unblocks it once its own handler is in place, and blocks it again
  while it starts a worker, so every worker is born with SIGHUP held.

Several SIGHUPs held together are delivered as one; one reload reads the files as they
are then, which is all any of them asked for.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

#: Not on every platform (Windows has neither SIGHUP nor signal masks).
_MASKS = hasattr(signal, "SIGHUP") and hasattr(signal, "pthread_sigmask")


@contextmanager
def hangups_held() -> Iterator[None]:
    """Hold SIGHUP in the calling thread, and in the processes it starts, until the
    block ends (then the previous mask is back and a held SIGHUP is delivered)."""
    if not _MASKS:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def release_hangups() -> None:
    """Let SIGHUP through in the calling thread: its handler is in place, and one that
    was held since start-up is delivered now."""
    if _MASKS:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})
