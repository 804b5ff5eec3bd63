#!/usr/bin/env python3
"""Multi-task vs single-task, the paper's central claim, under one budget (and runs with a
model option on against the same recipe without it):

    python3 training/ablation.py --config training/configs/ablation.json --out docs/ablation
    python3 training/ablation.py --runs runs/gpu-ablation/member-* runs/gpu-ensemble-4x40/member-0 \\
        runs/gpu-ensemble-4x40/member-1 --out docs/ablation-gpu

The first trains the same network three times from the same seed (both losses, segmentation
loss only, classification loss only). The second summarises runs already trained, e.g. the
members of training/configs/gpu-ablation.json trained in parallel on a GPU by
training/device-train.sh; it refuses runs whose recipes differ beyond loss weights, model options (zoom, colour
constancy) and seed.
Both report Validation metrics (last epoch, no selection; the best epoch for reference).
Test_v2 is not read. Writes <out>.json and <out>.md."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lesion_mtl.ablation import VARIANTS, markdown, summarise  # noqa: E402


def train_variants(config: str, data: str | None) -> list[str]:
    from lesion_mtl.train import load_config, train  # torch is needed only here

    base = load_config(config, {"data": data})
    run_dirs = []
    for name, weights in VARIANTS.items():
        cfg = {**base, **weights, "run_dir": os.path.join(base["run_dir"], name.replace(" ", "-"))}
        train(cfg)
        run_dirs.append(cfg["run_dir"])
    return run_dirs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="train the three variants of this config in turn")
    source.add_argument("--runs", nargs="+", help="summarise these finished run directories")
    ap.add_argument("--data")
    ap.add_argument("--out", default="docs/ablation")
    args = ap.parse_args()
    run_dirs = args.runs or train_variants(args.config, args.data)
    summary = summarise(run_dirs)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".json", "w") as fh:
        json.dump(summary, fh, indent=2)
        fh.write("\n")
    command = "python3 " + " ".join(shlex.quote(a) for a in ["training/ablation.py"] + sys.argv[1:])
    with open(args.out + ".md", "w") as fh:
        fh.write(markdown(summary, command))
    print(json.dumps({name: v["last"] for name, v in summary["variants"].items()}, indent=2))


if __name__ == "__main__":
    main()
