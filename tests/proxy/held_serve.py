"""``guardwire serve`` whose workers pause between loading their policy files and
installing their SIGHUP handler (tests/proxy/test_reload_hangup.py).

Run as a script: ``python tests/proxy/held_serve.py serve ARGS...`` with
``HELD_SERVE_DIR`` set. Each worker process re-runs this file's top level
(multiprocessing's spawn imports the main script as ``__mp_main__``), so the pause applies
in every worker, and in the serving process itself with ``--workers 1``. A paused
process marks ``held-<pid>`` in the directory and waits for a file named ``release``.
The pause is a test's stand-in for a slow start (a loaded machine, a big policy): the
product has no hook for it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from guard.proxy.reload import PolicyReloader

_install = PolicyReloader.install_hangup_handler


def _held_install(self: PolicyReloader) -> None:
    directory = Path(os.environ["HELD_SERVE_DIR"])
    (directory / f"held-{os.getpid()}").touch()
    deadline = time.monotonic() + 30  # a test that died must not leave a worker waiting
    while not (directory / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    _install(self)


PolicyReloader.install_hangup_handler = _held_install  # type: ignore[method-assign]

if __name__ == "__main__":
    from guard.cli import main

    sys.exit(main(sys.argv[1:]))
