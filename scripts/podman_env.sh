# Sourced by the image scripts and tests: a containers.conf for this sandboxed machine
# (it refuses rlimit changes, so containers get no default ulimits) and runc as the OCI
# runtime. A CONTAINERS_CONF already set wins.
if [ -z "${CONTAINERS_CONF:-}" ]; then
  guardwire_podman_dir="${XDG_RUNTIME_DIR:-/tmp}/guardwire-podman"
  mkdir -p "$guardwire_podman_dir"
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' \
    >"$guardwire_podman_dir/containers.conf"
  export CONTAINERS_CONF="$guardwire_podman_dir/containers.conf"
fi
