#!/usr/bin/env bash
# Train the members of one or more ensemble configs ("members") in parallel on ONE GPU (the
# `device` tool's machine), then pack each member's best.pt + logs into
# $OUT/<config>-member-<i>.tgz; the export runs afterwards on the CPU here:
# python3 training/train.py --config <config> --export-only.
#
#   bash training/device-train.sh SECONDS CONFIG...
#
# Expects the ISIC 2017 Training + Validation folders in .device-data/isic2017 and the ImageNet
# weights in .device-data/mobilenet_v2_imagenet.npz (git-ignored, carried), or where
# LESION_DEVICE_DATA / LESION_DEVICE_WEIGHTS point; DEVICE=cpu, PYTHON and POLL_SECONDS let the
# smoke test run it here. Each member is a separate process: the net is small, so one process is
# bound by kernel launches, not by the GPU. SECONDS caps every member; a member that hits it
# keeps its best epoch so far (best.pt) and its last.pt, so running the script again on the same
# machine resumes it.
set -u
limit=$1; shift
out=${OUT:-out/device}; mkdir -p "$out"
data=${LESION_DEVICE_DATA:-.device-data/isic2017}
weights=${LESION_DEVICE_WEIGHTS:-.device-data/mobilenet_v2_imagenet.npz}
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
nvidia-smi -L; $py -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA")' || exit 1
# decode the JPEGs once into .cache/isic (as each config will read them), before members start
$py - "$data" "$@" <<'PY' || exit 1
import sys
sys.path.insert(0, "training")
from lesion_mtl.data import load_split
from lesion_mtl.train import load_config
data, configs = sys.argv[1], sys.argv[2:]
for path in configs:
    cfg = load_config(path, {})
    for split, limit in (("Training", cfg["limit_train"]), ("Validation", cfg["limit_val"])):
        n = len(load_split(data, split, (cfg["height"], cfg["width"]), limit, ".cache/isic").ids)
        print(path, split, n)
PY
pids=()
for config in "$@"; do
  n=$($py -c "import json; print(len(json.load(open('$config'))['members'] or [0]))")
  for ((i = 0; i < n; i++)); do
    name=$(basename "$config" .json)-member-$i
    timeout "$limit" $py training/train.py --config "$config" --data "$data" --pretrained "$weights" \
      --device "${DEVICE:-cuda}" --member "$i" >"/tmp/$name.log" 2>&1 &
    pids+=($!)
  done
done
start=$SECONDS
while sleep "${POLL_SECONDS:-10}"; do
  running=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
  echo "t=$((SECONDS - start))s running=$running $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null)"
  [ "$running" = 0 ] && break
done
for config in "$@"; do
  run_dir=$($py -c "import json; print(json.load(open('$config'))['run_dir'])")
  for dir in "$run_dir"/member-*; do
    name=$(basename "$config" .json)-$(basename "$dir")
    cp "/tmp/$name.log" "$dir/stdout.log"
    tail -n 2 "$dir/stdout.log"
    tar czf "$out/$name.tgz" -C "$dir" --exclude last.pt .
  done
done
ls -la "$out"
