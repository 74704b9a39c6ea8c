"""The container image, built from a local Debian base and run the way a pod runs it:
read-only root filesystem, no capabilities, no network but loopback, config and policy
mounted at /etc/guardwire. The real OpenAI SDK talks to it from inside the container's
network namespace (tests/deploy/image_client.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from guard.proxy.config import ServerConfig
from tests.deploy.podman import ROOT, build_image, container_log, missing_reason, podman

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")

#: Uncompressed, as ``podman images`` reports it: issue 24 asks for < 250 MB. The image
#: is 240 MB: an 86 MB trimmed Debian + Python system (scripts/trim_image_base.sh) and a
#: 155 MB trimmed venv, ~110 MB of which is the compiled code spaCy needs (blis, numpy +
#: OpenBLAS, thinc, spaCy's own extensions), all loaded by the PII check.
MAX_IMAGE_MB = 250
UID = 10001
CONFIG = "port: 8787\npolicy: /etc/guardwire/policy.yaml\n"
# The store is left at its default (sqlite://guardwire-state.db): relative to the working
# directory, which in the image is the state volume.
POLICY = """\
name: image-test
input:
  - check: rules
    name: denylist
    rules:
      - name: weapons
        action: block
        keywords: [how to make a pipe bomb]
  - check: pii
    action: redact
budgets:
  - name: requests-daily
    scope: tenant
    window: day
    limit_requests: 1000
    on_unknown_model: default_price
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_image(tmp_path_factory.mktemp("build") / "build.log")


@pytest.fixture(scope="module")
def container(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = tmp_path_factory.mktemp("etc-guardwire")
    (config / "guardwire.yaml").write_text(CONFIG)
    (config / "policy.yaml").write_text(POLICY)
    config.chmod(0o755)  # pytest's directories are 0700: the image's user must read it
    name = f"guardwire-test-{uuid.uuid4().hex[:8]}"
    podman(
        "run", "--detach", "--name", name, "--runtime", "runc",
        "--read-only", "--network", "none", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--volume", f"{config}:/etc/guardwire:ro",
        image,
    )  # fmt: skip
    try:
        yield name
    finally:
        podman("rm", "--force", "--volumes", name, check=False)


@pytest.fixture(scope="module")
def seen(container: str) -> dict[str, object]:
    """What the OpenAI SDK saw, from inside the container's network namespace."""
    pid = podman("inspect", "--format", "{{.State.Pid}}", container).strip()
    done = subprocess.run(
        ["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable,
         "-m", "tests.deploy.image_client", "8787"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    if done.returncode != 0:
        logs = container_log(container)
        pytest.fail(f"image client failed: {done.stderr[-3000:]}\ncontainer log:\n{logs[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_image_is_small_and_has_no_compiler(image: str) -> None:
    size_mb = int(podman("image", "inspect", "--format", "{{.Size}}", image)) / 1e6
    print(f"image size: {size_mb:.0f} MB")
    assert size_mb < MAX_IMAGE_MB
    found = podman(
        "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image, "-c",
        "for tool in cc gcc g++ c++ clang ld as strip make; do command -v $tool; done; true",
    )  # fmt: skip
    assert found.strip() == ""


def test_the_base_is_trimmed_but_keeps_what_the_server_uses(image: str) -> None:
    # scripts/trim_image_base.sh: no package manager, perl, iconv modules or installers;
    # CA certificates, time zones and the UTF-8 locale stay (TLS upstreams, budgets).
    found = podman(
        "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image, "-c",
        "for tool in apt-get apt perl openssl; do command -v $tool; done;"
        " ls -d /usr/lib/*-linux-gnu/gconv /usr/share/python-wheels"
        " /usr/lib/python3*/ensurepip 2>/dev/null; true",
    )  # fmt: skip
    assert found.strip() == ""
    kept = podman(
        "run", "--rm", "--network", "none", "--entrypoint", "python3", image, "-c",
        "import ssl, zoneinfo, locale\n"
        "print(ssl.create_default_context().cert_store_stats()['x509_ca'] > 0,"
        " zoneinfo.ZoneInfo('America/New_York').key, locale.getpreferredencoding())",
    )  # fmt: skip
    assert kept.split() == ["True", "America/New_York", "UTF-8"]


def test_labels_say_version_source_and_licence(image: str) -> None:
    labels = json.loads(podman("image", "inspect", "--format", "{{json .Labels}}", image))
    from guard._version import __version__

    assert labels["org.opencontainers.image.version"] == __version__
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.source"]


def test_a_chat_completion_through_the_sdk(seen: dict[str, object]) -> None:
    assert seen["chat"] == (
        "This is guardwire's offline demo model (no upstream is configured). You said: Say hello"
    )


def test_a_blocked_request_is_a_400_in_openais_shape(seen: dict[str, object]) -> None:
    blocked = seen["blocked"]
    assert isinstance(blocked, dict) and blocked["status"] == 400
    body = blocked["body"]
    assert isinstance(body, dict) and {"message", "type", "code"} <= body.keys()
    assert "pipe bomb" not in json.dumps(body)


def test_the_pii_check_runs_in_the_trimmed_image(seen: dict[str, object]) -> None:
    # spaCy, thinc, blis and numpy load after the image's strip and trim steps.
    text = seen["pii_stream"]
    assert isinstance(text, str) and "You said: Write to" in text
    assert "maria.lopez@example.org" not in text and "EMAIL_ADDRESS" in text


def test_readyz_metrics_and_the_state_volume(seen: dict[str, object], container: str) -> None:
    readyz = seen["readyz"]
    assert isinstance(readyz, dict) and readyz["status"] == 200
    assert readyz["body"]["policy"] == "image-test"
    assert readyz["body"]["store"] == {"kind": "sqlite", "ok": True}
    metrics = seen["metrics"]
    assert isinstance(metrics, str)
    assert "guardwire_calls_total{" in metrics and 'outcome="blocked"' in metrics
    # The default store path is relative to the working directory, the state volume.
    listing = podman("exec", container, "ls", "/var/lib/guardwire")
    assert "guardwire-state.db" in listing.split()


def test_it_runs_as_the_fixed_non_root_user_on_a_read_only_root(
    seen: dict[str, object], container: str
) -> None:
    status = podman("exec", container, "cat", "/proc/1/status")
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uids) == {str(UID)}
    refused = podman(
        "exec", container, "python3", "-c",
        "import pathlib\ntry:\n pathlib.Path('/opt/guardwire/x').write_text('x')\n"
        "except OSError as e:\n print(e.errno)",
    )  # fmt: skip
    assert refused.strip() == "30"  # EROFS


def test_sighup_reloads_policies_and_keeps_serving(seen: dict[str, object], container: str) -> None:
    podman("kill", "--signal", "HUP", container)
    time.sleep(0.3)
    assert podman("inspect", "--format", "{{.State.Running}}", container).strip() == "true"


def test_sigterm_drains_and_exits_0_quickly(seen: dict[str, object], container: str) -> None:
    drain = ServerConfig().shutdown_timeout
    started = time.monotonic()
    podman("stop", "--time", str(int(drain) + 10), container, timeout=drain + 30)
    stopped_after = time.monotonic() - started
    print(f"healthy after {seen['healthy_after_s']:.1f} s; stopped after {stopped_after:.1f} s")
    assert podman("inspect", "--format", "{{.State.ExitCode}}", container).strip() == "0"
    # Idle, it exits at once; well before the drain timeout would force it.
    assert stopped_after < 10
    logs = container_log(container)
    assert "Finished server process" in logs
    # No user text in the log lines.
    assert "maria.lopez" not in logs and "pipe bomb" not in logs
