"""Batch augmentation for dermoscopy on float tensors (no extra dependencies).

Dermoscopic images have no canonical orientation, so flips and any rotation are label-
preserving; scale covers lesion size; colour jitter covers device and illumination drift."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment_batch(images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator,
                  rotate_deg: float = 180.0, scale=(0.8, 1.25), translate: float = 0.08,
                  colour: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
    """images: float [N,3,H,W] in [0,255]; masks: float [N,1,H,W] in {0,1}. The random draws come
    from gen on the CPU (the same stream on any device) and move to the images' device."""
    n, _, h, w = images.shape
    dev = images.device
    rnd = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
    angle = (rnd(n) * 2 - 1) * math.radians(rotate_deg)
    s = torch.exp(torch.empty(n).uniform_(math.log(scale[0]), math.log(scale[1]), generator=gen))
    flip_x = torch.where(rnd(n) < 0.5, -1.0, 1.0)
    flip_y = torch.where(rnd(n) < 0.5, -1.0, 1.0)
    tx, ty = (rnd(n) * 2 - 1) * translate, (rnd(n) * 2 - 1) * translate
    # affine_grid works in normalised coords; correct for the 4:3 aspect so rotation is rigid.
    ar = w / h
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * flip_x
    theta[:, 0, 1] = -sin * flip_y / ar
    theta[:, 1, 0] = sin * flip_x * ar
    theta[:, 1, 1] = cos * flip_y
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta.to(dev), list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    masks = F.grid_sample(masks, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    masks = (masks > 0.5).float()
    # colour: brightness, contrast, saturation, per-channel gain (white balance), gamma
    b = 1 + (rnd(n, 1, 1, 1) * 2 - 1) * colour
    c = 1 + (rnd(n, 1, 1, 1) * 2 - 1) * colour
    sat = 1 + (rnd(n, 1, 1, 1) * 2 - 1) * colour
    gain = 1 + (rnd(n, 3, 1, 1) * 2 - 1) * colour / 2
    gamma = torch.exp((rnd(n, 1, 1, 1) * 2 - 1) * colour)
    # one host-to-device copy (each copy from pageable memory waits for the GPU)
    b, c, sat, gain, gamma = torch.cat([b, c, sat, gain, gamma], dim=1).to(dev).split([1, 1, 1, 3, 1], dim=1)
    x = images / 255.0
    x = x.clamp(0, 1) ** gamma
    grey = x.mean(dim=1, keepdim=True)
    x = grey + (x - grey) * sat
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * c + mean
    x = x * b * gain
    return (x.clamp(0, 1) * 255.0), masks


def degrade_scale(images: torch.Tensor, eligible: torch.Tensor, prob: float, size_hw: tuple[int, int],
                  gen: torch.Generator) -> torch.Tensor:
    """Resample a random share (prob) of the eligible images [N] (bool, CPU) down to size_hw (area
    averaging) and back up (bilinear): ISIC images seen at HAM10000's coarser 200x150 scale, so
    the network cannot tell the sources apart by sharpness alone."""
    pick = eligible & (torch.rand(images.shape[0], generator=gen) < prob)
    if not bool(pick.any()):
        return images
    sel = pick.nonzero()[:, 0].to(images.device)
    small = F.interpolate(images[sel], size=size_hw, mode="area")
    out = images.clone()
    out[sel] = F.interpolate(small, size=images.shape[-2:], mode="bilinear", align_corners=False)
    return out
