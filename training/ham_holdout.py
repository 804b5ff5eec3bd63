#!/usr/bin/env python3
"""Write a config's HAM10000 hold-out as a folder for `lesion eval --images/--masks/--labels`:

    python3 training/ham_holdout.py --config training/configs/model2-distill-ham.json --out runs/ham-holdout
    npx lesion eval --images runs/ham-holdout --masks runs/ham-holdout/masks \
        --labels runs/ham-holdout/labels.csv --json

The images and masks are copies of the originals (200x150); labels.csv has melanoma = dx mel
(clean) and seborrheic_keratosis = dx bkl, a WEAK label (bkl also holds solar lentigines and
lichen-planus-like keratoses): report melanoma AUC and Jaccard, SK AUC only as weak."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lesion_mtl.config import load_config  # noqa: E402
from lesion_mtl.ham import write_holdout_folder  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--ham", help="HAM10000 folder (overrides the config's)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    cfg = load_config(args.config, {"ham": args.ham})
    if not cfg["ham"]:
        raise SystemExit(f"{args.config} names no HAM10000 folder (--ham)")
    print(f"{write_holdout_folder(cfg, args.out)} hold-out images -> {args.out}")
