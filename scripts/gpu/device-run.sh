#!/usr/bin/env bash
# On the GPU machine (the `device` tool's `run`, from the checkout's root), after every part of
# .device-carry was copied to /tmp/lesion-gpu/ (scripts/gpu/README.md): issue 14's GPU check in
# one call. Writes its figures under $OUT (at most 8 files come back).
set -euo pipefail
: "${OUT:?run this through the device tool: \$OUT is where results go}"
DIR=/tmp/lesion-gpu
STAGE=$DIR/stage
if [[ ! -x $STAGE/node ]]; then
  cat "$DIR"/part-* | xz -d | tar -x -C "$DIR"
fi
# CUDA 13 runtime + cuBLAS, cuDNN 9, and the other CUDA libraries PyTorch's wheels carry (STACK.md)
nvidia_libs=$(ls -d /opt/torch/.venv/lib/python3.*/site-packages/nvidia/*/lib 2>/dev/null | paste -sd: || true)
export LD_LIBRARY_PATH="/usr/local/cuda-13.0/targets/x86_64-linux/lib:/usr/lib/x86_64-linux-gnu:${nvidia_libs}:${LD_LIBRARY_PATH:-}"
export ORT_DISABLE_TELEMETRY=1
NODE=$STAGE/node
MODEL=models/lesion-mtl.onnx
IMAGES=$STAGE/images/isic,$STAGE/images/fullres

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc; free -g | head -2; } > "$OUT/machine.txt" 2>&1 || true
echo "model only, CUDA provider"
"$NODE" "$STAGE/bin/model-only.mjs" --provider cuda --batches 1,4,16,64 --model "$MODEL" \
  --sample samples/ISIC_0012099.jpg > "$OUT/model-only-cuda.json"
echo "the same graph in PyTorch on the same GPU (random weights: speed only)"
python3 bench/pytorch_baseline.py --sidecar models/lesion-mtl.json --device cuda --batches 1,4,16,64 \
  --threads "$(nproc)" > "$OUT/pytorch-cuda.json" || echo '{"failed": true}' > "$OUT/pytorch-cuda.json"
echo "the worker end to end, CUDA, parity against the CPU provider"
"$NODE" "$STAGE/bin/worker-bench.mjs" --provider cuda --parity cpu --images "$IMAGES" --count 624 \
  --max-batch 16 --model "$MODEL" --out "$OUT/worker-cuda.json" > /dev/null
echo "two worker loops on the one GPU (does decode/encode on 16 cores need more than one?)"
"$NODE" "$STAGE/bin/worker-bench.mjs" --provider cuda --loops 2 --images "$IMAGES" --count 624 \
  --max-batch 16 --model "$MODEL" --out "$OUT/worker-cuda-2loops.json" > /dev/null
echo done
