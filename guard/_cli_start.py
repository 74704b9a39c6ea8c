"""``guardwire serve`` holds SIGHUP from the first line of guardwire that runs.

The console script (and ``python -m guard.cli``) imports the whole package before
``serve()`` can hold the signal: about a second, several on a loaded machine. A SIGHUP
in that window (a logrotate ``kill -HUP``, a deploy script's reload right after a
restart) took its default action and ended the process. :mod:`guard` imports this
module first, so when the process is the ``serve`` command, SIGHUP is blocked here,
before any heavy import; it stays pending until the reload handler is installed and
is applied then (:mod:`guard.proxy._hangup`). Every other use of the package, and
every other command, is left as it is.

Only the interpreter's own start-up (tens of milliseconds, before any guardwire code
runs) is left unguarded.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence


def is_serve_command(argv: Sequence[str], orig_argv: Sequence[str] = ()) -> bool:
    """True for ``guardwire serve ...`` and ``python -m guard.cli serve ...``.

    While ``-m`` imports the package, ``argv[0]`` is ``"-m"``: then ``orig_argv`` (the
    interpreter's own command line) must name ``guard.cli`` as the module run, so that
    another program started with ``-m`` that imports guardwire as a library keeps its
    SIGHUP."""
    if len(argv) < 2 or argv[1] != "serve":
        return False
    if argv[0] == "-m":
        args = list(orig_argv)
        return "-m" in args[:-1] and args[args.index("-m") + 1] == "guard.cli"
    program = os.path.basename(argv[0])
    return program in ("guardwire", "guardwire.exe", "cli.py")


def hold_hangups_for_serve(argv: Sequence[str]) -> None:
    """Block SIGHUP in this process (and those it starts) when it is ``serve``."""
    masks = hasattr(signal, "pthread_sigmask") and hasattr(signal, "SIGHUP")  # not Windows
    if masks and is_serve_command(argv, getattr(sys, "orig_argv", ())):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})


hold_hangups_for_serve(sys.argv)
