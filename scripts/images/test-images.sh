#!/usr/bin/env bash
# `npm run test:images`: build functions/gpu-worker/Dockerfile and functions/analyze/Dockerfile
# exactly as written, with build args that swap the public base images for local stand-ins
# (scripts/images/base.sh) and skip the CUDA provider download, then smoke-run each image
# (test/container-images/, jest). Needs buildah (Debian: apt-get install buildah podman debootstrap) and root.
# Outside CI it skips, saying why, where buildah cannot run; in CI (CI=true) that is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

cannot_run() {
  if [[ "${CI:-}" == true ]]; then
    echo "test:images: FAILED — $1" >&2
    exit 1
  fi
  echo "test:images: SKIPPED — $1 (the container images were neither built nor run)"
  exit 0
}
command -v buildah >/dev/null || cannot_run "buildah is not installed (apt-get install buildah podman debootstrap)"
command -v debootstrap >/dev/null || cannot_run "debootstrap is not installed (apt-get install debootstrap)"
buildah info >/dev/null 2>&1 || cannot_run "buildah cannot run here: $(buildah info 2>&1 | tail -n1)"

STANDIN=localhost/lesion-standin
export LESION_TEST_WORKER_IMAGE=localhost/lesion-mtl/gpu-worker:test
export LESION_TEST_ANALYZE_IMAGE=localhost/lesion-mtl/analyze:test

bash scripts/images/base.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The build context the CDK asset uses (its exclude list), not the whole checkout.
npx tsx scripts/images/context-ignore.ts > "$work/ignore"
secret=()
# The host's CA bundle for a registry behind a TLS-inspecting proxy (STACK.md): the one Node is
# told to trust, else the system's (where such a proxy's CA is usually installed); none = no secret.
hostca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [[ -s "$hostca" ]]; then
  secret=(--secret "id=hostca,src=$hostca")
fi

build() { # build <tag> <Dockerfile> [--build-arg …]
  local tag=$1 file=$2 start=$SECONDS
  shift 2
  buildah rmi --force "$tag" >/dev/null 2>&1 || true
  echo "images: building $file …"
  # docker format, as `docker build` (cdk deploy) writes it: the OCI format has no HEALTHCHECK
  if ! buildah bud --format docker --isolation chroot --pull=never --ignorefile "$work/ignore" "${secret[@]}" "$@" \
    -t "$tag" -f "$file" . > "$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    echo "test:images: FAILED — $file does not build" >&2
    exit 1
  fi
  echo "images: built $tag in $((SECONDS - start)) s, $(buildah images --format '{{.Size}}' "$tag")"
}

# LESION_IMAGES_REUSE=1 (while editing the smoke tests): keep images this script built before.
reuse() { [[ "${LESION_IMAGES_REUSE:-}" == 1 ]] && buildah inspect --type image "$1" >/dev/null 2>&1; }

reuse "$LESION_TEST_WORKER_IMAGE" || build "$LESION_TEST_WORKER_IMAGE" functions/gpu-worker/Dockerfile \
  --build-arg NODE_IMAGE="$STANDIN/node:22" \
  --build-arg CUDA_IMAGE="$STANDIN/debian:bookworm" \
  --build-arg ONNXRUNTIME_NODE_INSTALL=skip
reuse "$LESION_TEST_ANALYZE_IMAGE" || build "$LESION_TEST_ANALYZE_IMAGE" functions/analyze/Dockerfile \
  --build-arg NODE_IMAGE="$STANDIN/node:22" \
  --build-arg LAMBDA_IMAGE="$STANDIN/lambda-nodejs:22"
# Intermediate build stages left untagged by this run and earlier ones.
buildah rmi --prune >/dev/null 2>&1 || true

LESION_TEST_IMAGES=1 NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" npx jest test/container-images
