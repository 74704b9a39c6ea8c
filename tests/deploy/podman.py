"""podman for the deploy tests: the tools' presence, this machine's containers.conf,
and one image built per test session by scripts/build_image.sh (cached layers and base).

Where podman, runc or debootstrap are missing (``./dev test`` installs the Debian
packages) or the tests do not run as root, the image tests are skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("GUARDWIRE_TEST_IMAGE", "localhost/guardwire:test")
#: A cold build (debootstrap, then every wheel) takes minutes on 2 loaded cores.
BUILD_TIMEOUT_SECONDS = 1200


def missing_reason() -> str | None:
    """Why the image cannot be built and run here, or None when it can."""
    missing = [tool for tool in ("podman", "runc", "debootstrap", "nsenter") if not _has(tool)]
    if missing:
        return (
            f"{', '.join(missing)} not installed (./dev test installs the Debian packages "
            "podman, runc and debootstrap); the container image was not built or tested"
        )
    if os.geteuid() != 0:
        return "the container image test needs root (rootful podman and nsenter)"
    return None


def _has(tool: str) -> bool:
    return shutil.which(tool) is not None or Path("/usr/sbin", tool).exists()


def podman_env() -> dict[str, str]:
    """The environment for podman: containers.conf without default ulimits (this
    sandbox refuses rlimit changes) and runc as the runtime, as scripts/podman_env.sh."""
    env = dict(os.environ)
    if "CONTAINERS_CONF" not in env:
        directory = Path(tempfile.gettempdir(), "guardwire-podman")
        directory.mkdir(exist_ok=True)
        conf = directory / "containers.conf"
        conf.write_text('[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n')
        env["CONTAINERS_CONF"] = str(conf)
    return env


def podman(*args: str, check: bool = True, timeout: float = 120) -> str:
    """Run ``podman ARGS``; its standard output."""
    done = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def container_log(container: str) -> str:
    """The container's output, standard error included (guardwire logs there)."""
    done = subprocess.run(
        ["podman", "logs", container], env=podman_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr


def build_image(log: Path) -> str:
    """Build (or reuse the cached layers of) the image; its name. Under ``./dev test``
    the build was started in the background: wait for it instead."""
    started = os.environ.get("GUARDWIRE_TEST_IMAGE_BUILD")
    if started:
        return _wait_for_build(Path(started))
    env = podman_env() | {"GUARDWIRE_IMAGE": IMAGE, "GUARDWIRE_BUILD_LOG": str(log)}
    done = subprocess.run(
        [str(ROOT / "scripts" / "build_image.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        tail = log.read_text()[-3000:] if log.exists() else ""
        pytest.fail(f"scripts/build_image.sh failed:\n{done.stdout}\n{done.stderr}\n{tail}")
    return IMAGE


def _wait_for_build(directory: Path) -> str:
    status = directory / "status"
    deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
    while not status.exists():
        if time.monotonic() > deadline:
            pytest.fail(
                f"the image build ({directory}) did not finish in {BUILD_TIMEOUT_SECONDS} s"
            )
        time.sleep(0.5)
    if status.read_text().strip() != "0":
        output = (directory / "build.out").read_text()
        log = directory / "build.log"
        tail = log.read_text()[-3000:] if log.exists() else ""
        pytest.fail(f"scripts/build_image.sh failed:\n{output}\n{tail}")
    print((directory / "build.out").read_text())
    return IMAGE
