"""The training config: every key with its default, and loading a JSON config over them.
Torch-free, so the run-directory readers (run_files, the ablation summary) can use it."""
from __future__ import annotations

import json

DEFAULTS = {
    "name": "lesion-mtl",
    "version": "1.0.0",
    "data": "../shared/data/isic2017",
    "pretrained": "../shared/pretrained/mobilenet_v2_imagenet.npz",
    "run_dir": "runs/default",
    "output": "runs/export",  # only the shipped model's config writes models/
    "height": 192,
    "width": 256,
    "epochs": 20,
    "batch_size": 16,
    "lr": 1e-3,
    "encoder_lr": 2e-4,
    "grad_clip": 5.0,
    "weight_decay": 1e-4,
    "warmup_epochs": 1,
    "cls_weight": 1.0,
    "seg_weight": 1.0,  # 0 with cls_weight 1: classification-only (ablation), and vice versa
    "ema_decay": 0.995,
    "seed": 17,
    "threads": 2,
    "limit_train": None,
    "limit_val": None,
    "width_mult": 1.0,
    "decoder_channels": [96, 64, 32, 24],
    "dropout": 0.3,
    "zoom": False,  # second encoder pass over the predicted lesion's box for the classifiers (model.py)
    "colour_constancy": False,  # Shades-of-Grey white balance inside the graph, before the encoder
    "tta_candidates": ["none", "hflip", "flip4"],
    "tta_tolerance": 0.005,
    "sensitivity_target": 0.89,
    "parity_images": 4,
    "selection": "jaccard+mean_auc",  # "isic+ham": + HAM hold-out mean Jaccard + melanoma AUC
    "members": None,  # [{seed, epochs, ...}, ...]: train each, export their ensemble (see member_configs)
    "max_gflops": 3.0,  # serving budget per image; TTA modes above it are not candidates
    "max_params": 6_000_000,  # serving budget (all members together); the export refuses a larger model
    "device": "auto",  # training device: "auto" (CUDA when present), "cpu" or "cuda"; export runs on CPU
    # external data (ham.py): HAM10000 folder, or None; a lesion-grouped hold-out never trained on
    "ham": None,
    "ham_holdout": 0.15,  # share of lesions (sha1 of lesion_id) held out as a second validation domain
    "ham_exclude_near_duplicates": True,  # never train on HAM images near-duplicating Validation/Test_v2
    "isic_per_epoch": None,  # ISIC Training samples per epoch (None: each image once; more: repeats)
    "ham_per_epoch": 2000,  # HAM train images sampled per epoch (without replacement within an epoch)
    "ham_mel_share": None,  # melanoma share of each epoch's HAM sample (None: HAM's own prevalence)
    "ham_scale_prob": 0.0,  # chance an ISIC image is degraded to HAM's 200x150 scale (down, then up)
    # warm start and distillation (onnx_weights.py): an exported lesion-mtl ONNX file
    "init_from": None,  # start from this file's member init_member (all batch norms then stay frozen)
    "init_member": 0,
    "freeze_blocks": 4,  # encoder blocks kept frozen (4: stem + stride-4 blocks; 14: all up to stride 16)
    "teacher": None,  # distil from this file's members (their averaged logits, run on each batch)
    "distill_alpha": 0.5,  # loss = (1 - alpha) * hard-label loss + alpha * teacher soft-target loss
    "distill_temperature": 1.0,  # temperature of the score soft targets (loss scaled by T^2)
}


def load_config(path: str | None, overrides: dict) -> dict:
    cfg = dict(DEFAULTS)
    if path:
        with open(path) as f:
            user = json.load(f)
        unknown = sorted(set(user) - set(DEFAULTS))
        if unknown:
            raise SystemExit(f"unknown config keys in {path}: {unknown}; valid: {sorted(DEFAULTS)}")
        cfg.update(user)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return cfg
