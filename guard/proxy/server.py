"""``guardwire serve``: build the config, then run the ASGI app under uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import math
import os
from typing import Any

from guard.errors import MissingDependency
from guard.exporter import multiprocess_directory
from guard.proxy._hangup import hangups_held
from guard.proxy.app import ProxyApp, Resource
from guard.proxy.config import ServerConfig, load_config
from guard.proxy.reload import SOURCE_VARIABLE, PolicyReloader, ReloadSource

log = logging.getLogger("guardwire.proxy")

# The resolved config travels to worker processes through this variable, with client
# keys as digests only (it is readable in /proc/<pid>/environ and inherited by children).
_RESOLVED = "GUARDWIRE_RESOLVED_CONFIG"
#: uvicorn's HTTP protocol with the header timeout and connection cap.
HTTP_PROTOCOL = "guard.proxy.connections:GuardedHttpProtocol"


def create_app() -> ProxyApp:
    """App factory for uvicorn (used in every worker process)."""
    config = ServerConfig.from_worker_json(os.environ[_RESOLVED])
    _configure_logging(config)
    app = ProxyApp(config)
    attach_reloader(app, ReloadSource.from_env())
    return app


def attach_reloader(app: ProxyApp, source: ReloadSource) -> PolicyReloader:
    """Reload ``app``'s policies on SIGHUP and when its files change (from start-up on)."""
    reloader = app.reloader = PolicyReloader(app, source)
    reloader.install_hangup_handler()
    app.resources.append(Resource("policy reload", reloader.stop, reloader.start))
    return reloader


def _configure_logging(config: ServerConfig) -> None:
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def serve(args: argparse.Namespace) -> int:
    """Run the proxy until interrupted; in-flight requests finish on shutdown."""
    # Until the reload handler is installed, SIGHUP is held, not lost: the policies may
    # already be read, so a SIGHUP now must reload them once the handler is in place.
    # (Its default action would also take the server down: a logrotate "postrotate
    # kill -HUP" habit must not.) Worker processes inherit the hold (guard.proxy._hangup).
    with hangups_held():
        return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise MissingDependency("guardwire serve", "proxy") from None
    overrides = {
        "upstream": args.upstream,
        "policy": args.policy,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
    }
    config = load_config(args.config, overrides=overrides)
    _configure_logging(config)
    ProxyApp(config)  # validate policies, keys and the audit log now, before forking
    _warn_if_open_relay(config)
    if config.demo:
        log.warning(
            "no upstream configured: answering from the built-in offline demo model "
            "'guardwire-demo' (set --upstream or GUARDWIRE_UPSTREAM for a real model API)"
        )
    else:
        for name, upstream in config.upstreams.items():
            log.info("upstream %s: %s", name, upstream.url)
    log.info("policy: %s; listening on http://%s:%d", config.policy, config.host, config.port)
    os.environ[_RESOLVED] = config.to_worker_json()
    # Each worker re-reads the config file with the same flags when it reloads.
    source = ReloadSource(
        args.config or os.environ.get("GUARDWIRE_CONFIG"),
        {k: v for k, v in overrides.items() if v is not None},
    )
    os.environ[SOURCE_VARIABLE] = source.to_env()
    if config.workers == 1:
        _run(uvicorn, config)
        return 0
    # Workers write their metrics to files in a per-run directory; /metrics sums them.
    with multiprocess_directory() as directory:
        log.info(
            "%d worker processes: /metrics reports all of them (metric files in %s, "
            "removed at exit)",
            config.workers,
            directory,
        )
        _run(uvicorn, config)
    return 0


def _run(uvicorn: Any, config: ServerConfig) -> None:
    settings: dict[str, Any] = dict(
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level=config.log_level,
        # guardwire writes its own value-free access line (logger guardwire.access).
        access_log=False,
        # uvicorn takes whole seconds: round up (int() made 0.5 s no drain at all).
        timeout_graceful_shutdown=math.ceil(config.shutdown_timeout),
        # uvicorn's supervisor replaces a worker that misses its health ping (5 s by
        # default): too short for a worker in a slow call or starting on a busy machine.
        timeout_worker_healthcheck=config.worker_healthcheck_timeout,
        server_header=False,
        # A sidecar on loopback: no X-Forwarded-* rewriting middleware on every request.
        proxy_headers=False,
        http=HTTP_PROTOCOL,
    )
    if config.workers == 1:
        uvicorn.run("guard.proxy.server:create_app", **settings)
        return
    # uvicorn's supervisor answers SIGHUP by restarting every worker, and a worker that
    # meets a broken policy file would not come back: forward the signal instead, so
    # each worker reloads in place and keeps its policies when the new ones are broken.
    from guard.proxy._supervisor import run_workers

    run_workers(uvicorn, "guard.proxy.server:create_app", settings)


def _warn_if_open_relay(config: ServerConfig) -> None:
    """Warn when anyone who can reach the port may use the upstream key unchecked."""
    if config.keys or _is_loopback(config.host):
        return
    log.warning(
        "listening on %s without client keys: anyone who can reach this port can make model "
        "calls with the upstream key; configure 'keys' or listen on 127.0.0.1",
        config.host,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
