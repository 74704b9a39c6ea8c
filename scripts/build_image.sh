#!/usr/bin/env bash
# Build the guardwire container image with podman, from a Debian base made here by
# debootstrap (no container registry needed): `./dev image` runs this.
#
#   scripts/build_image.sh            build localhost/guardwire-base if missing, then the image
#   GUARDWIRE_IMAGE=NAME:TAG          image name (default localhost/guardwire:dev)
#   GUARDWIRE_BASE=NAME               base image (default localhost/guardwire-base); it is
#                                     reused when present: `podman rmi` it to rebuild
#   DEBIAN_MIRROR=URL                 mirror for debootstrap (default http://deb.debian.org/debian)
#
# The build reaches PyPI and Debian (host network); running the image needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${GUARDWIRE_IMAGE:-localhost/guardwire:dev}"
base="${GUARDWIRE_BASE:-localhost/guardwire-base}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

for tool in podman debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "build_image: '$tool' is not installed (Debian: apt-get install podman runc debootstrap)" >&2
    exit 3
  }
done
# shellcheck source=scripts/podman_env.sh
. scripts/podman_env.sh

# The base: Debian bookworm, minimal, with python3 and venv, trimmed of what an image
# never uses (package lists and caches, documentation, translations).
build_base() {
  local root
  root="$(mktemp -d /var/tmp/guardwire-base.XXXXXX)"
  trap 'rm -rf "$root"' RETURN
  echo "== debootstrap bookworm into $root (a few minutes the first time)"
  debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root/rootfs" \
    "$mirror" >"$root/debootstrap.log" 2>&1 || {
    tail -20 "$root/debootstrap.log" >&2
    echo "build_image: debootstrap failed (log above)" >&2
    return 1
  }
  rm -rf "$root"/rootfs/var/cache/apt/archives/*.deb "$root"/rootfs/var/cache/apt/*.bin \
    "$root"/rootfs/var/lib/apt/lists/* "$root"/rootfs/usr/share/doc/* \
    "$root"/rootfs/usr/share/man/* "$root"/rootfs/usr/share/info/* \
    "$root"/rootfs/usr/share/locale/* "$root"/rootfs/var/log/*
  tar -C "$root/rootfs" -c . | podman import \
    --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$base" >/dev/null
}

if podman image exists "$base"; then
  echo "== base $base: present, reused"
else
  build_base
fi

# pip inside the build must trust what the host's pip trusts (a TLS-inspecting proxy's
# CA, for instance): mount the host's CA bundle when pip is configured with one.
build_args=()
ca_file="${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}"
if [ -n "$ca_file" ] && [ -f "$ca_file" ]; then
  build_args+=(--volume "$ca_file:/etc/guardwire-build-ca.pem:ro"
    --build-arg PIP_CERT=/etc/guardwire-build-ca.pem)
fi
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' guard/_version.py)"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"

echo "== podman build $image (FROM $base)"
podman build --runtime runc --network host --layers \
  --build-arg BASE="$base" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  "${build_args[@]}" -f Containerfile -t "$image" . >"${GUARDWIRE_BUILD_LOG:-/dev/stdout}"
# Each source change leaves the previous image untagged (~160 MB): drop those a day old.
podman image prune --force --filter label=org.opencontainers.image.title=guardwire \
  --filter until=24h >/dev/null 2>&1 || true
size="$(podman image inspect --format '{{.Size}}' "$image")"
echo "== built $image: $((size / 1000000)) MB"
