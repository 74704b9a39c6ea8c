"""Several worker processes under uvicorn's supervisor, with SIGHUP forwarded to them.

uvicorn's supervisor answers SIGHUP by replacing every worker with a new process. A new
worker that meets a broken policy file cannot start, and everything in flight in the
old one is drained for nothing. guardwire reloads in place instead: the supervisor
passes SIGHUP on to each worker that is serving, and each worker reloads its policies
atomically (:mod:`guard.proxy.reload`), keeping the running ones when the new files are
broken.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

from guard.proxy.reload import HANGUP_READY_DIR

log = logging.getLogger("guardwire.proxy")


def run_workers(uvicorn: Any, app: str, settings: dict[str, Any]) -> None:
    """What ``uvicorn.run(app, workers=N, ...)`` does, with SIGHUP forwarded."""
    from uvicorn.supervisors.multiprocess import Multiprocess

    class ReloadingMultiprocess(Multiprocess):
        def handle_hup(self) -> None:
            forwarded = 0
            for process in self.processes:
                # Only a worker that said its handler is installed gets the signal: one
                # still starting would be ended by it (and reads the files as they are
                # now anyway). Not a health ping: a loaded worker may answer one late.
                pid = process.pid
                if pid is not None and (ready / str(pid)).exists():
                    try:
                        os.kill(pid, signal.SIGHUP)
                    except ProcessLookupError:
                        continue
                    forwarded += 1
            log.info("received SIGHUP: reloading policies in %d worker processes", forwarded)

    config = uvicorn.Config(app, **settings)
    socket = config.bind_socket()
    with tempfile.TemporaryDirectory(prefix="guardwire-hup-") as directory:
        ready = Path(directory)
        os.environ[HANGUP_READY_DIR] = directory  # inherited by the spawned workers
        try:
            ReloadingMultiprocess(config, sockets=[socket]).run()
        finally:
            socket.close()
