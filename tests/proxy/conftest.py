"""Fixtures shared by the proxy tests: a TLS certificate, a raw-socket upstream."""

from __future__ import annotations

import pytest

from tests.proxy.raw_upstream import raw_upstream

__all__ = ["certificate", "raw_upstream"]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command line)."""
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:  # pragma: no cover - Debian and macOS ship it
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = str(folder / "key.pem"), str(folder / "cert.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return key, cert
