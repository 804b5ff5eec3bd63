"""ISIC 2017 loading in the official layout, cached as uint8 arrays.

Layout (Codella et al. 2017, arXiv:1710.05006):
    ISIC-2017_<Split>_Data/ISIC_<id>.jpg
    ISIC-2017_<Split>_Part1_GroundTruth/ISIC_<id>_segmentation.png
    ISIC-2017_<Split>_Part3_GroundTruth.csv   image_id,melanoma,seborrheic_keratosis
"""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

SPLITS = ("Training", "Validation", "Test_v2")
CLASSES = ("melanoma", "seborrheic_keratosis")
# ISIC binarisation: a 0..255 mask value strictly above it is lesion (src/processing/mask.ts MASK_THRESHOLD)
MASK_THRESHOLD = 128


@dataclass
class Split:
    ids: list[str]
    images: np.ndarray  # uint8 [N, H, W, 3]
    masks: np.ndarray  # uint8 [N, H, W], 0/1
    labels: np.ndarray  # float32 [N, 2] in CLASSES order


def read_labels(csv_path: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            out[row["image_id"].strip()] = np.array(
                [float(row[c]) for c in CLASSES], dtype=np.float32
            )
    return out


def load_image_and_mask(img_path: str, mask_path: str, size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One image (RGB uint8) and its mask (0/1) at size_hw (H, W); a portrait image is rotated to
    landscape like src/processing does, so train and serve see the same geometry."""
    rgb = np.asarray(Image.open(img_path).convert("RGB"))
    m = np.asarray(Image.open(mask_path).convert("L"))
    if rgb.shape[0] > rgb.shape[1]:  # portrait
        rgb = np.ascontiguousarray(np.rot90(rgb, k=-1))
        m = np.ascontiguousarray(np.rot90(m, k=-1))
    h, w = size_hw
    if rgb.shape[:2] != (h, w):
        rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.BILINEAR))
    if m.shape[:2] != (h, w):
        m = np.asarray(Image.fromarray(m).resize((w, h), Image.NEAREST))
    return rgb, (m > MASK_THRESHOLD).astype(np.uint8)


def load_split(
    root: str,
    split: str,
    size_hw: tuple[int, int],
    limit: int | None = None,
    cache_dir: str | None = None,
) -> Split:
    """Load one split resized to size_hw (H, W); portrait images are rotated to landscape
    exactly as the serving pipeline does, so train and serve see the same geometry."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    labels = read_labels(os.path.join(root, f"ISIC-2017_{split}_Part3_GroundTruth.csv"))
    ids = sorted(labels)
    if limit is not None:
        ids = ids[:limit]
    key = hashlib.sha1(f"{os.path.abspath(root)}|{split}|{size_hw}|{len(ids)}".encode()).hexdigest()[:12]
    cache = os.path.join(cache_dir, f"{split}-{key}.npz") if cache_dir else None
    if cache and os.path.exists(cache):
        z = np.load(cache)
        return Split(ids, z["images"], z["masks"], z["labels"])
    images = np.empty((len(ids), size_hw[0], size_hw[1], 3), np.uint8)
    masks = np.empty((len(ids), size_hw[0], size_hw[1]), np.uint8)
    for i, image_id in enumerate(ids):
        images[i], masks[i] = load_image_and_mask(
            os.path.join(root, f"ISIC-2017_{split}_Data", f"{image_id}.jpg"),
            os.path.join(root, f"ISIC-2017_{split}_Part1_GroundTruth", f"{image_id}_segmentation.png"),
            size_hw,
        )
    lab = np.stack([labels[i] for i in ids]).astype(np.float32)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        np.savez(cache, images=images, masks=masks, labels=lab)
    return Split(ids, images, masks, lab)
