"""deploy/kubernetes/: every manifest validates against the Kubernetes OpenAPI schemas
(kubernetes-validate, offline), and what the manifests expect of the image — port,
probe paths, user, mounts, drain time, config file — is what the Containerfile and the
server's config defaults provide."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from guard._version import __version__
from guard.policy import Policy
from guard.proxy.config import ServerConfig, load_config
from guard.proxy.routing import RouteTable, Target

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSION = kubernetes_validate.latest_version()
# Kinds of the Prometheus Operator (a CRD): kubernetes-validate has no schema for them.
OPERATOR_KINDS = {"ServiceMonitor"}


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / name).read_text()) if d]


def by_kind(name: str, kind: str) -> list[dict[str, Any]]:
    return [d for d in documents(name) if d["kind"] == kind]


def containerfile_final_stage() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Containerfile's last stage, continuations joined."""
    text = (ROOT / "Containerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    instructions = [tuple(line.split(None, 1)) for line in lines if line and line[0] != "#"]
    last_from = max(i for i, (op, *_) in enumerate(instructions) if op == "FROM")
    return [(op, rest[0] if rest else "") for op, *rest in instructions[last_from:]]


def image_setting(instruction: str) -> str:
    return next(args for op, args in containerfile_final_stage() if op == instruction)


def served(path: str) -> str:
    """What the proxy's router does with ``GET path`` (healthz, readyz, metrics...)."""
    return str(RouteTable([]).route("GET", Target(path, "")).kind.value)


def image_env() -> dict[str, str]:
    env = image_setting("ENV")
    return dict(re.findall(r"(\w+)=(\S+)", env))


def guardwire_containers() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(manifest, pod spec, guardwire container) of every workload that runs guardwire."""
    found = []
    for manifest in MANIFESTS:
        for doc in documents(manifest.name):
            if doc["kind"] != "Deployment":
                continue
            pod = doc["spec"]["template"]["spec"]
            for container in pod.get("initContainers", []) + pod["containers"]:
                if "/guardwire:" in container["image"]:
                    found.append((manifest.name, pod, container))
    return found


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifests_validate_against_the_kubernetes_schemas(manifest: Path) -> None:
    for doc in documents(manifest.name):
        if doc["kind"] in OPERATOR_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_misspelt_field() -> None:
    (deployment,) = by_kind("gateway.yaml", "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_service_monitor_selects_the_gateway_service_and_its_port() -> None:
    (monitor,) = by_kind("servicemonitor.yaml", "ServiceMonitor")
    (service,) = by_kind("gateway.yaml", "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    port_names = {port["name"] for port in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in port_names and endpoint["path"] == "/metrics"


def test_every_guardwire_container_is_locked_down() -> None:
    user = image_setting("USER")
    assert user == "10001:10001"
    assert len(guardwire_containers()) == 2
    for manifest, pod, container in guardwire_containers():
        context = container["securityContext"]
        assert context["runAsNonRoot"] and context["readOnlyRootFilesystem"], manifest
        assert context["allowPrivilegeEscalation"] is False, manifest
        assert context["capabilities"] == {"drop": ["ALL"]}, manifest
        assert f"{context['runAsUser']}:{context['runAsGroup']}" == user, manifest
        assert pod["securityContext"]["fsGroup"] == context["runAsGroup"], manifest
        assert {"requests", "limits"} <= container["resources"].keys(), manifest


def test_ports_and_probes_match_what_the_image_serves() -> None:
    port = int(image_setting("EXPOSE"))
    assert port == ServerConfig().port
    for manifest, _, container in guardwire_containers():
        (declared,) = container["ports"]
        assert declared["containerPort"] == port, manifest
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            http = container[probe]["httpGet"]
            assert http["port"] in (declared["name"], port), (manifest, probe)
            assert served(http["path"]) in ("healthz", "readyz")
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_prometheus_annotations_point_at_metrics() -> None:
    (pod,) = by_kind("sidecar.yaml", "Deployment")
    (service,) = by_kind("gateway.yaml", "Service")
    for scrape in (pod["spec"]["template"]["metadata"]["annotations"],
                   service["metadata"]["annotations"]):  # fmt: skip
        assert scrape["prometheus.io/scrape"] == "true"
        assert int(scrape["prometheus.io/port"]) == int(image_setting("EXPOSE"))
        assert served(scrape["prometheus.io/path"]) == "metrics"


def test_mounts_match_the_images_config_state_and_temporary_paths() -> None:
    env = image_env()
    config_directory = str(Path(env["GUARDWIRE_CONFIG"]).parent)
    state = image_setting("WORKDIR")
    assert image_setting("VOLUME") == f'["{state}"]'
    for manifest, pod, container in guardwire_containers():
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        assert mounts.keys() == {config_directory, state, "/tmp"}, manifest
        assert mounts[config_directory]["readOnly"] is True
        volumes = {v["name"]: v for v in pod["volumes"]}
        config_map = volumes[mounts[config_directory]["name"]]["configMap"]["name"]
        (data,) = [
            d["data"] for d in by_kind(manifest, "ConfigMap") if d["metadata"]["name"] == config_map
        ]
        assert Path(env["GUARDWIRE_CONFIG"]).name in data
        assert volumes[mounts["/tmp"]["name"]]["emptyDir"]["medium"] == "Memory"


def test_the_image_listens_on_all_addresses_and_reads_etc_guardwire() -> None:
    env = image_env()
    assert env["GUARDWIRE_HOST"] == "0.0.0.0"
    assert env["GUARDWIRE_CONFIG"] == "/etc/guardwire/guardwire.yaml"
    assert image_setting("ENTRYPOINT") == '["guardwire"]' and image_setting("CMD") == '["serve"]'
    assert image_setting("STOPSIGNAL") == "SIGTERM"
    shipped = load_config(ROOT / "deploy" / "container" / "guardwire.yaml", env=env)
    assert shipped.host == "0.0.0.0" and shipped.port == int(image_setting("EXPOSE"))


def test_the_grace_period_outlasts_the_drain() -> None:
    for manifest, pod, _ in guardwire_containers():
        assert pod["terminationGracePeriodSeconds"] > ServerConfig().shutdown_timeout, manifest


@pytest.mark.parametrize("manifest", ["sidecar.yaml", "gateway.yaml"])
def test_the_config_maps_load_as_guardwire_config_and_policy(manifest: str, tmp_path: Path) -> None:
    (config_map,) = by_kind(manifest, "ConfigMap")
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text)
    (_, _, container) = next(c for c in guardwire_containers() if c[0] == manifest)
    env = {e["name"]: e.get("value", "from-a-secret") for e in container.get("env", [])}
    config = load_config(tmp_path / "guardwire.yaml", env=env)
    assert config.policy == "/etc/guardwire/policy.yaml"
    policy = Policy.from_yaml((tmp_path / "policy.yaml").read_text(), "policy.yaml")
    policy.build()
    # The upstream key comes from a Secret, never from the manifest.
    for variable in env:
        (source,) = [e for e in container["env"] if e["name"] == variable]
        if variable.endswith("API_KEY") or variable.startswith("GUARDWIRE_KEY"):
            assert "secretKeyRef" in source["valueFrom"]


def test_the_image_tags_in_the_examples_are_this_version() -> None:
    for manifest, _, container in guardwire_containers():
        assert container["image"].endswith(f"/guardwire:{__version__}"), manifest


def test_the_containerfile_version_default_is_this_version() -> None:
    versions = [args for op, args in containerfile_final_stage() if op == "ARG"]
    assert f"VERSION={__version__}" in versions


def test_the_ignore_files_agree() -> None:
    assert (ROOT / ".containerignore").read_text() == (ROOT / ".dockerignore").read_text()
