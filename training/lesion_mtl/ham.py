"""HAM10000 (Tschandl et al. 2018, Scientific Data 5, 180161) as external training data, and a
deterministic hold-out of it grouped by lesion as a second validation domain.

Layout (the project's copy; any folder laid out the same way works):
    images/ISIC_<id>.jpg                  200x150 RGB
    masks/ISIC_<id>_segmentation.png      lesion masks, 0/255
    HAM10000_metadata.csv                 lesion_id,image_id,dx,dx_type,age,sex,localization
    near_duplicates.csv (optional)        ham_image_id,isic2017_split,isic2017_image_id,r

Labels for the two heads: melanoma = (dx == "mel"), clean. Seborrheic keratosis has NO clean
label here (dx "bkl" lumps SK, solar lentigo and lichen-planus-like keratosis): its hard-label
weight is 0 for every HAM image (`label_mask`), so the SK head learns on HAM only from the
teacher's soft targets. `bkl` is kept as a weak SK label for reporting only (hold-out SK AUC).
Licence of the data: CC BY-NC-SA 4.0 — a model trained on it inherits that restriction.
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
from dataclasses import dataclass

import numpy as np

from .data import Split, load_image_and_mask


HAM_SCALE = 200 / 256  # HAM10000's copies (200x150) relative to the contract size (256x192)


@dataclass
class HamRecord:
    image_id: str
    lesion_id: str
    dx: str


def read_metadata(root: str) -> list[HamRecord]:
    with open(os.path.join(root, "HAM10000_metadata.csv"), newline="") as f:
        return [HamRecord(r["image_id"].strip(), r["lesion_id"].strip(), r["dx"].strip()) for r in csv.DictReader(f)]


def in_holdout(lesion_id: str, fraction: float) -> bool:
    """Deterministic, order-independent: the lesion's sha1 as a number in [0, 1) below fraction.
    Every image of a lesion lands on the same side."""
    h = int(hashlib.sha1(lesion_id.encode()).hexdigest()[:15], 16) / float(16 ** 15)
    return h < fraction


def near_duplicates(root: str, splits=("Validation", "Test_v2")) -> set[str]:
    """HAM image ids listed in near_duplicates.csv against the given ISIC 2017 splits (r > 0.95;
    none is the same lesion, but a model never trains on them, to keep those splits clean)."""
    path = os.path.join(root, "near_duplicates.csv")
    if not os.path.exists(path):
        return set()
    with open(path, newline="") as f:
        return {r["ham_image_id"].strip() for r in csv.DictReader(f) if r["isic2017_split"].strip() in splits}


def split_ids(records: list[HamRecord], fraction: float, exclude: set[str] = frozenset()) -> tuple[list[str], list[str]]:
    """(train ids, hold-out ids), each sorted; excluded ids are in neither."""
    train, hold = [], []
    for r in records:
        if r.image_id in exclude:
            continue
        (hold if in_holdout(r.lesion_id, fraction) else train).append(r.image_id)
    return sorted(train), sorted(hold)


def labels_for(records: list[HamRecord], ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(labels [N,2] melanoma / weak SK (= bkl), label_mask [N,2]: 1 where the hard label trains)."""
    dx = {r.image_id: r.dx for r in records}
    labels = np.array([[dx[i] == "mel", dx[i] == "bkl"] for i in ids], dtype=np.float32).reshape(-1, 2)
    mask = np.zeros_like(labels)
    mask[:, 0] = 1.0  # melanoma: clean; SK: unknown (teacher only)
    return labels, mask


def _load(root: str, image_id: str, size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    return load_image_and_mask(
        os.path.join(root, "images", f"{image_id}.jpg"),
        os.path.join(root, "masks", f"{image_id}_segmentation.png"),
        size_hw,
    )


def load_ham(root: str, ids: list[str], records: list[HamRecord], size_hw: tuple[int, int],
             cache_dir: str | None = None, tag: str = "") -> tuple[Split, np.ndarray]:
    """The given HAM images resized (bilinear; masks nearest) to size_hw, as a Split (labels:
    melanoma, weak SK) plus the hard-label mask [N,2]."""
    key = hashlib.sha1(f"{os.path.abspath(root)}|{size_hw}|{','.join(ids)}".encode()).hexdigest()[:12]
    cache = os.path.join(cache_dir, f"ham-{tag}-{key}.npz") if cache_dir else None
    labels, label_mask = labels_for(records, ids)
    if cache and os.path.exists(cache):
        z = np.load(cache)
        return Split(list(ids), z["images"], z["masks"], labels), label_mask
    images = np.empty((len(ids), size_hw[0], size_hw[1], 3), np.uint8)
    masks = np.empty((len(ids), size_hw[0], size_hw[1]), np.uint8)
    for i, image_id in enumerate(ids):
        images[i], masks[i] = _load(root, image_id, size_hw)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        np.savez(cache, images=images, masks=masks)
    return Split(list(ids), images, masks, labels), label_mask


def config_ids(cfg: dict) -> tuple[list[HamRecord], list[str], list[str]]:
    """(metadata, train ids, hold-out ids) of cfg's HAM folder, hold-out share and exclusions."""
    records = read_metadata(cfg["ham"])
    exclude = near_duplicates(cfg["ham"]) if cfg["ham_exclude_near_duplicates"] else set()
    return (records, *split_ids(records, cfg["ham_holdout"], exclude))


def ham_splits(cfg: dict, size_hw: tuple[int, int], cache_dir: str | None,
               need_train: bool = True) -> tuple[tuple[Split, np.ndarray] | None, Split]:
    """(train part with its label mask, or None when need_train is False; hold-out) for cfg."""
    root = cfg["ham"]
    records, train_ids, hold_ids = config_ids(cfg)
    if cfg["limit_train"] is not None:
        train_ids = train_ids[:cfg["limit_train"]]
    if cfg["limit_val"] is not None:
        hold_ids = hold_ids[:cfg["limit_val"]]
    hold, _ = load_ham(root, hold_ids, records, size_hw, cache_dir, "holdout")
    train = load_ham(root, train_ids, records, size_hw, cache_dir, "train") if need_train else None
    return train, hold


def write_holdout_folder(cfg: dict, out_dir: str) -> int:
    """The hold-out as a `lesion eval --images/--masks/--labels` folder: copies of the original
    200x150 images and masks (the eval lists regular files only), labels.csv image_id,melanoma,seborrheic_keratosis (SK = bkl, a WEAK
    label). Returns the number of images."""
    root = cfg["ham"]
    records, _, hold_ids = config_ids(cfg)
    labels, _ = labels_for(records, hold_ids)
    os.makedirs(os.path.join(out_dir, "masks"), exist_ok=True)
    for image_id in hold_ids:
        for src, dst in ((os.path.join(root, "images", f"{image_id}.jpg"), os.path.join(out_dir, f"{image_id}.jpg")),
                         (os.path.join(root, "masks", f"{image_id}_segmentation.png"),
                          os.path.join(out_dir, "masks", f"{image_id}_segmentation.png"))):
            if not os.path.exists(dst):
                shutil.copyfile(src, dst)
    with open(os.path.join(out_dir, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image_id", "melanoma", "seborrheic_keratosis"])
        for image_id, (mel, sk) in zip(hold_ids, labels):
            w.writerow([image_id, f"{mel:.1f}", f"{sk:.1f}"])
    return len(hold_ids)
