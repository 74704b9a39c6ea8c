"""Several worker processes under uvicorn's supervisor, with SIGHUP forwarded to them.

uvicorn's supervisor answers SIGHUP by replacing every worker with a new process. A new
worker that meets a broken policy file cannot start, and everything in flight in the
old one is drained for nothing. guardwire reloads in place instead: the supervisor
passes SIGHUP on to every worker it has started, and each worker reloads its policies
atomically (:mod:`guard.proxy.reload`), keeping the running ones when the new files are
broken.

Workers are started with SIGHUP held (:mod:`guard.proxy._hangup`): one still starting
keeps the signal pending until its handler is in place, instead of being ended by it
or missing it.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import TYPE_CHECKING, Any

from guard.proxy._hangup import hangups_held, release_hangups

if TYPE_CHECKING:
    from uvicorn.supervisors.multiprocess import Multiprocess

log = logging.getLogger("guardwire.proxy")


def run_workers(uvicorn: Any, app: str, settings: dict[str, Any]) -> None:
    """What ``uvicorn.run(app, workers=N, ...)`` does, with SIGHUP forwarded.

    Called with SIGHUP held (``guardwire serve`` holds it from its start); it is let
    through once the supervisor's handler is in place.
    """
    supervisor_class = reloading_supervisor()
    config = uvicorn.Config(app, **settings)
    socket = config.bind_socket()
    try:
        supervisor = supervisor_class(config, sockets=[socket])  # installs its handlers
        release_hangups()  # one that came during start-up is handled after init
        supervisor.run()
    finally:
        socket.close()


def reloading_supervisor() -> type[Multiprocess]:
    """uvicorn's ``Multiprocess`` supervisor, forwarding SIGHUP to its workers and
    starting each worker with SIGHUP held."""
    from uvicorn.supervisors.multiprocess import Multiprocess

    class ReloadingMultiprocess(Multiprocess):
        # Every method that starts a worker process runs with SIGHUP held, so the worker
        # inherits the held signal. The supervisor itself only queues signals and reads
        # the queue between these calls: holding one here delays nothing.
        def init_processes(self) -> None:
            with hangups_held():
                super().init_processes()

        def keep_subprocess_alive(self) -> None:
            with hangups_held():
                super().keep_subprocess_alive()

        def handle_ttin(self) -> None:
            with hangups_held():
                super().handle_ttin()

        def handle_hup(self) -> None:
            forwarded = 0
            for process in self.processes:
                # A worker still starting holds the signal until its handler is in place
                # (it was started with SIGHUP held), so every started worker gets it.
                pid = process.pid
                if pid is None or process.exitcode is not None:
                    continue
                try:
                    os.kill(pid, signal.SIGHUP)
                except ProcessLookupError:
                    continue
                forwarded += 1
            log.info("received SIGHUP: reloading policies in %d worker processes", forwarded)

    return ReloadingMultiprocess
