#!/usr/bin/env bash
# Here, on a machine with npm: everything the GPU machine lacks for issue 14's GPU check (Node, the
# project's worker benchmark bundles, onnxruntime-node 1.29 with the CUDA 13 provider from npm,
# sharp, the images), as xz parts small enough to travel one per `run` call beside the checkout.
#
#   bash scripts/gpu/pack.sh [--part-size 30M] [--no-cuda] [--verify]
#     --no-cuda  leave the 230 MB CUDA provider out (a dry run of everything else)
#     --verify   run the staged bundles here on the CPU provider before packing
# → .device-carry/part-aa, part-ab, … (git-ignored); scripts/gpu/README.md says how to carry them.
set -euo pipefail
cd "$(dirname "$0")/../.."

PART_SIZE=30M
CUDA=1
VERIFY=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --part-size) PART_SIZE=$2; shift 2 ;;
    --no-cuda) CUDA=0; shift ;;
    --verify) VERIFY=1; shift ;;
    *) echo "usage: $0 [--part-size 30M] [--no-cuda] [--verify]" >&2; exit 2 ;;
  esac
done
ORT_VERSION=1.29.0 # the CUDA provider below is built for this onnxruntime (core and provider must match)
CUDA_PROVIDER_PACKAGE=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
SHARED=${LESION_SHARED:-../shared/data}

OUT=.device-carry
STAGE=$OUT/stage
rm -rf "$OUT"
mkdir -p "$STAGE/bin" "$STAGE/images/isic" "$STAGE/images/fullres"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "gpu pack: Node $(node --version) (this machine's binary; Node 20 ran on the GPU machine)"
cp "$(command -v node)" "$STAGE/node"

echo "gpu pack: the benchmark bundles (onnxruntime-node and sharp stay external)"
npx tsx scripts/bundle.ts bench/worker/run.ts "$STAGE/bin/worker-bench.mjs" --target node20
npx tsx scripts/bundle.ts bench/worker/model-only.ts "$STAGE/bin/model-only.mjs" --target node20

echo "gpu pack: sharp (linux-x64) from this checkout, onnxruntime-node $ORT_VERSION from npm"
npx tsx layers/build.ts --only runtime >/dev/null
cp -r layers/runtime/build/nodejs/node_modules "$STAGE/node_modules"
rm -rf "$STAGE/node_modules/onnxruntime-node" "$STAGE/node_modules/onnxruntime-common"
(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" "onnxruntime-common@$ORT_VERSION" >/dev/null)
mkdir -p "$STAGE/node_modules/onnxruntime-node" "$STAGE/node_modules/onnxruntime-common"
tar -xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$STAGE/node_modules/onnxruntime-node" --strip-components=1
tar -xzf "$tmp/onnxruntime-common-$ORT_VERSION.tgz" -C "$STAGE/node_modules/onnxruntime-common" --strip-components=1
ORT_BIN="$STAGE/node_modules/onnxruntime-node/bin/napi-v6"
find "$ORT_BIN" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$ORT_BIN/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
if [[ $CUDA == 1 ]]; then
  echo "gpu pack: the CUDA provider libraries from $CUDA_PROVIDER_PACKAGE (~180 MB download)"
  (cd "$tmp" && npm pack --silent "$CUDA_PROVIDER_PACKAGE" >/dev/null)
  mkdir "$tmp/gpu"
  tar -xzf "$tmp"/com.github.asus4.onnxruntime.linux-x64-gpu-*.tgz -C "$tmp/gpu"
  # next to libonnxruntime.so.1, where onnxruntime-node's own installer puts them
  cp "$tmp"/gpu/package/Plugins/Linux/x64/libonnxruntime_providers_{cuda,shared}.so "$ORT_BIN/linux/x64/"
fi

echo "gpu pack: images (ISIC 2017 Validation + Test_v2 at 256x192, the 12 full-resolution uploads)"
if [[ -d "$SHARED/isic2017" ]]; then
  cp "$SHARED"/isic2017/ISIC-2017_Validation_Data/*.jpg "$STAGE/images/isic/"
  cp "$SHARED"/isic2017/ISIC-2017_Test_v2_Data/*.jpg "$STAGE/images/isic/"
  cp "$SHARED"/isic2017_fullres_samples/*.jpg "$STAGE/images/fullres/"
else
  echo "gpu pack: no $SHARED/isic2017: the bundled samples/ only" >&2
  cp samples/*.jpg "$STAGE/images/isic/"
  cp samples/*.jpg "$STAGE/images/fullres/"
fi

if [[ $VERIFY == 1 ]]; then
  echo "gpu pack: verifying the stage here (CPU provider)"
  "$STAGE/node" "$STAGE/bin/model-only.mjs" --provider cpu --batches 1 \
    --model models/lesion-mtl.onnx --sample samples/ISIC_0012099.jpg > "$tmp/model-only.json"
  "$STAGE/node" "$STAGE/bin/worker-bench.mjs" --provider cpu --parity cpu --count 8 --max-batch 4 \
    --images "$STAGE/images/fullres" --model models/lesion-mtl.onnx > "$tmp/worker.json"
  node -e 'const r = require(process.argv[1]); if (r.analyzed !== 8 || r.parity.maxProbabilityDifference !== 0) process.exit(1); console.log(`gpu pack: stage OK (${r.uploadsPerSecond} uploads/s on this CPU)`)' "$tmp/worker.json"
fi

echo "gpu pack: compressing …"
tar -C "$OUT" -c stage | xz -T0 -6 | split -b "$PART_SIZE" - "$OUT/part-"
rm -rf "$STAGE"
ls -la "$OUT"
