"""The sidecar HTTP proxy (needs the ``proxy`` extra: uvicorn and httptools)."""

from guard.proxy.app import ProxyApp
from guard.proxy.config import ServerConfig, load_config

__all__ = ["ProxyApp", "ServerConfig", "load_config"]
