#!/usr/bin/env python3
"""Score members of an exported lesion-mtl ONNX file, rebuilt in PyTorch (onnx_weights.py), with
the training code's own pass (192x256, no TTA unless --tta): ISIC Validation and, when the config
names HAM10000, its hold-out. The same figures best.pt selection reads, for a file whose
checkpoints are gone (e.g. 1.2.0's members, the warm start of the model 2.0 candidate):

    python3 training/score_members.py --config training/configs/model2-distill-ham.json \\
        --model models/lesion-mtl.onnx --member 1
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from lesion_mtl.config import load_config  # noqa: E402
from lesion_mtl.data import load_split  # noqa: E402
from lesion_mtl.ham import ham_splits  # noqa: E402
from lesion_mtl.model import Ensemble  # noqa: E402
from lesion_mtl.onnx_weights import load_members  # noqa: E402
from lesion_mtl.train import build_model, evaluate, selection_score  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--model", required=True, help="exported ONNX file")
    ap.add_argument("--member", type=int, help="one member (default: all, averaged)")
    ap.add_argument("--tta", default="none", choices=["none", "hflip", "flip4"])
    args = ap.parse_args()
    cfg = load_config(args.config, {})
    torch.set_num_threads(cfg["threads"])
    members = load_members(args.model, lambda: build_model(cfg))
    net = members[args.member] if args.member is not None else (
        members[0] if len(members) == 1 else Ensemble(members).eval())
    size = (cfg["height"], cfg["width"])
    va = load_split(cfg["data"], "Validation", size, cfg["limit_val"], os.path.join(".cache", "isic"))
    out = {"model": args.model, "member": args.member, "tta": args.tta, "val": evaluate(net, va, args.tta)}
    if cfg["ham"]:
        _, hold = ham_splits(cfg, size, os.path.join(".cache", "ham"), need_train=False)
        out["ham"] = evaluate(net, hold, args.tta)
        out["selection"] = selection_score({**cfg, "selection": "isic+ham"}, out["val"], out["ham"])
    print(json.dumps(out))
