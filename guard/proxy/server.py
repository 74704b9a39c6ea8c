"""``guardwire serve``: build the config, then run the ASGI app under uvicorn."""

from __future__ import annotations

import argparse
import logging
import os

from guard.errors import MissingDependency
from guard.proxy.app import ProxyApp
from guard.proxy.config import ServerConfig, load_config

log = logging.getLogger("guardwire.proxy")

# The resolved config travels to worker processes through this variable.
_RESOLVED = "GUARDWIRE_RESOLVED_CONFIG"


def create_app() -> ProxyApp:
    """App factory for uvicorn (used in every worker process)."""
    config = ServerConfig.model_validate_json(os.environ[_RESOLVED])
    _configure_logging(config)
    return ProxyApp(config)


def _configure_logging(config: ServerConfig) -> None:
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def serve(args: argparse.Namespace) -> int:
    """Run the proxy until interrupted; in-flight requests finish on shutdown."""
    try:
        import uvicorn
    except ImportError:
        raise MissingDependency("guardwire serve", "proxy") from None
    config = load_config(
        args.config,
        overrides={
            "upstream": args.upstream,
            "policy": args.policy,
            "host": args.host,
            "port": args.port,
            "workers": args.workers,
        },
    )
    _configure_logging(config)
    ProxyApp(config)  # validate policies and keys now, with a clear error, before forking
    if config.demo:
        log.warning(
            "no upstream configured: answering from the built-in offline demo model "
            "'guardwire-demo' (set --upstream or GUARDWIRE_UPSTREAM for a real model API)"
        )
    else:
        for name, upstream in config.upstreams.items():
            log.info("upstream %s: %s", name, upstream.url)
    log.info("policy: %s; listening on http://%s:%d", config.policy, config.host, config.port)
    os.environ[_RESOLVED] = config.model_dump_json()
    uvicorn.run(
        "guard.proxy.server:create_app",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level=config.log_level,
        access_log=False,
        timeout_graceful_shutdown=int(config.shutdown_timeout),
        server_header=False,
        # A sidecar on loopback: no X-Forwarded-* rewriting middleware on every request.
        proxy_headers=False,
    )
    return 0
