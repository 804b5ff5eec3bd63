from __future__ import annotations

import torch
import torch.nn.functional as F


def dice_bce_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """BCE + soft Dice per image (Dice averaged over the batch)."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    denom = p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    dice = 1 - (2 * inter + eps) / (denom + eps)
    return bce + dice.mean()


def balanced_bce_loss(logits: torch.Tensor, target: torch.Tensor, pos_weight: torch.Tensor) -> torch.Tensor:
    """Independent binary heads, each positive weighted by negatives/positives of the training set."""
    return F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)


def masked_balanced_bce(logits: torch.Tensor, target: torch.Tensor, pos_weight: torch.Tensor,
                        label_mask: torch.Tensor) -> torch.Tensor:
    """balanced_bce_loss over the entries whose hard label is known (label_mask 1), averaged over
    those entries (0 when there is none): HAM images have no seborrheic-keratosis label."""
    per = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="none")
    return (per * label_mask).sum() / label_mask.sum().clamp(min=1.0)


def soft_bce(logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Binary distillation: BCE of the student's tempered logits against the teacher's tempered
    probabilities, scaled by T^2 (Hinton et al. 2015) so its gradient does not shrink with T."""
    t = temperature
    return F.binary_cross_entropy_with_logits(logits / t, torch.sigmoid(teacher_logits / t)) * t * t


def distillation_loss(mask_logits: torch.Tensor, scores: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor,
                      label_mask: torch.Tensor, pos_weight: torch.Tensor, teacher_mask: torch.Tensor,
                      teacher_scores: torch.Tensor, alpha: float, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(segmentation, classification) losses mixing hard labels and the teacher's soft targets:
    seg = (1 - alpha) * (BCE + Dice on the ground-truth mask) + alpha * BCE on the teacher's mask
    probabilities; cls = (1 - alpha) * masked balanced BCE + alpha * soft_bce on both heads."""
    seg = (1 - alpha) * dice_bce_loss(mask_logits, mask) + alpha * soft_bce(mask_logits, teacher_mask)
    cls = (1 - alpha) * masked_balanced_bce(scores, labels, pos_weight, label_mask) \
        + alpha * soft_bce(scores, teacher_scores, temperature)
    return seg, cls
