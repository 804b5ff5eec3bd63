"""The multi-task network: one shared MobileNetV2 encoder, a depthwise-separable U-Net
decoder for the lesion mask and two independent binary heads (melanoma vs rest, seborrheic
keratosis vs rest) that pool the deepest features both globally and under the predicted mask.

In the spirit of Yang et al. 2017 (arXiv:1703.01025): shared representation, task-specific
branches; here the segmentation also steers the classifiers through mask-attention pooling.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import mobilenet_v2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# features[i] indices of torchvision's MobileNetV2 whose outputs feed the decoder:
# stride 2 (16 ch), 4 (24), 8 (32), 16 (96), 32 (320).
SKIP_TAPS = (1, 3, 6, 13)
SKIP_CHANNELS = (16, 24, 32, 96)
DEEP_TAP = 17
DEEP_CHANNELS = 320
HEAD_CHANNELS = 1280
FROZEN_BLOCKS = 4  # stem + stride-4 blocks: generic edges, frozen to save CPU time


def conv_bn_relu(cin: int, cout: int, k: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SeparableBlock(nn.Sequential):
    """Depthwise 3x3 + pointwise 1x1: ~1/8 the FLOPs of a plain 3x3 at these widths."""

    def __init__(self, cin: int, cout: int):
        super().__init__(conv_bn_relu(cin, cin, 3, groups=cin), conv_bn_relu(cin, cout, 1))


class DecoderStage(nn.Module):
    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.block = nn.Sequential(SeparableBlock(cin + cskip, cout), SeparableBlock(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.block(torch.cat([x, skip], dim=1))


class BinaryHead(nn.Sequential):
    """LayerNorm → dropout → linear logit. The pooled ReLU6 features are sparse and small; the
    norm puts them on a usable scale, and with no hidden ReLU there are no units to die (an
    MLP head here collapsed to a constant output within three epochs)."""

    def __init__(self, cin: int, dropout: float):
        super().__init__(nn.LayerNorm(cin), nn.Dropout(dropout), nn.Linear(cin, 1))


class LesionMTL(nn.Module):
    """Input: float RGB in [0, 255], NCHW. Output: (mask_logits [N,1,H,W], score_logits [N,2],
    embedding [N,1280+L]) — the embedding (global pool of the deepest features, then low-level
    colour/texture statistics) feeds the out-of-distribution gate only."""

    def __init__(self, decoder_channels=(96, 64, 32, 24), dropout: float = 0.3, width_mult: float = 1.0):
        super().__init__()
        self.encoder = mobilenet_v2(width_mult=width_mult).features
        skip_ch = [self._out_channels(i) for i in SKIP_TAPS]
        deep_ch = self._out_channels(DEEP_TAP)
        head_ch = self._out_channels(len(self.encoder) - 1)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0)
        stages = []
        cin = deep_ch
        for cskip, cout in zip(reversed(skip_ch), decoder_channels):
            stages.append(DecoderStage(cin, cskip, cout))
            cin = cout
        self.decoder = nn.ModuleList(stages)
        self.mask_head = nn.Conv2d(cin, 1, 1)
        self.cls_heads = nn.ModuleList([BinaryHead(2 * head_ch, dropout) for _ in range(2)])

    def _out_channels(self, idx: int) -> int:
        block = self.encoder[idx]
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        return convs[-1].out_channels

    def forward(self, x: torch.Tensor):
        h, w = x.shape[-2:]
        if not torch.jit.is_tracing() and (h % 32 or w % 32):
            raise ValueError(f"input {h}x{w}: height and width must be multiples of 32, "
                             f"e.g. {-(-h // 32) * 32}x{-(-w // 32) * 32}")
        x = (x - self.mean) / self.std
        # low-level image statistics for the OOD gate: colour, contrast, early-layer texture
        low = [x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x)
            if i in SKIP_TAPS:
                skips.append(x)
            if i == DEEP_TAP:
                deep = x
        top = x  # features[18]: 1280 channels at stride 32
        y = deep
        for stage, skip in zip(self.decoder, reversed(skips)):
            y = stage(y, skip)
        half = self.mask_head(y)  # stride 2
        mask_logits = F.interpolate(half, size=(h, w), mode="bilinear", align_corners=False)
        # Mask-attention pooling: the classifier also looks at the lesion, not only the whole frame.
        attn = F.avg_pool2d(torch.sigmoid(half.detach()), kernel_size=16)
        gap = top.mean(dim=(2, 3))
        lesion_pool = (top * attn).sum(dim=(2, 3)) / (attn.sum(dim=(2, 3)) + 1e-3)
        feat = torch.cat([gap, lesion_pool], dim=1)
        scores = torch.cat([head(feat) for head in self.cls_heads], dim=1)
        for skip in skips[:3]:  # strides 2, 4, 8
            low += [skip.mean(dim=(2, 3)), skip.std(dim=(2, 3))]
        return mask_logits, scores, torch.cat([gap] + low, dim=1)

    def freeze_encoder_bn(self) -> None:
        """The ImageNet copy has batch norm folded into biases (mean 0, var 1-eps): keep its
        statistics fixed so training does not overwrite them with tiny-batch estimates."""
        for m in self.encoder.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def frozen_parameters(self):
        for block in list(self.encoder)[:FROZEN_BLOCKS]:
            yield from block.parameters()


def load_imagenet_encoder(model: LesionMTL, npz_path: str) -> int:
    """Copy torchvision-named MobileNetV2 weights (the shared .npz) into the encoder."""
    z = np.load(npz_path)
    state = model.encoder.state_dict()
    loaded = 0
    for key in state:
        src = f"features.{key}"
        if src in z.files and tuple(z[src].shape) == tuple(state[key].shape):
            state[key] = torch.from_numpy(z[src].astype(np.float32))
            loaded += 1
    model.encoder.load_state_dict(state)
    return loaded


class OodGate(nn.Module):
    """Distance of an image to the training distribution, from two views of the embedding:
    - deep: squared Mahalanobis distance of the 1280-d global pool in a whitened PCA subspace
      plus the normalised residual outside it (what the classifier sees);
    - low: full-covariance Mahalanobis distance of colour/contrast/early-texture statistics
      (catches flat, noisy, text-like frames whose deep features look unremarkable).
    Each is divided by its median on the Training set; the score is the larger of the two."""

    def __init__(self, split: int, mean: np.ndarray, components: np.ndarray, eigvals: np.ndarray,
                 residual_var: float, low_precision: np.ndarray, deep_scale: float, low_scale: float):
        super().__init__()
        self.split = split
        f32 = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))  # noqa: E731
        self.register_buffer("mu", f32(mean))
        self.register_buffer("proj", f32((components / np.sqrt(eigvals)[:, None]).T))  # [D, k]
        self.register_buffer("basis", f32(components.T))  # [D, k]
        self.register_buffer("low_precision", f32(low_precision))
        self.residual_var = float(residual_var)
        self.deep_scale = float(deep_scale)
        self.low_scale = float(low_scale)

    def distances(self, emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = emb - self.mu
        deep, low = d[:, :self.split], d[:, self.split:]
        z = deep @ self.proj
        resid = deep - (deep @ self.basis) @ self.basis.T
        d_deep = (z * z).sum(dim=1) + (resid * resid).sum(dim=1) / self.residual_var
        d_low = ((low @ self.low_precision) * low).sum(dim=1)
        return d_deep, d_low

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        d_deep, d_low = self.distances(emb)
        return torch.maximum(d_deep / self.deep_scale, d_low / self.low_scale)


class Ensemble(nn.Module):
    """Members trained by the same recipe with different seeds, run on the same input: mask and
    score logits are averaged; the embedding is member 0's (the OOD gate is fitted on it)."""

    def __init__(self, members: list[LesionMTL]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor):
        outs = [m(x) for m in self.members]
        if len(outs) == 1:
            return outs[0]
        mask = torch.stack([o[0] for o in outs]).mean(dim=0)
        scores = torch.stack([o[1] for o in outs]).mean(dim=0)
        return mask, scores, outs[0][2]


TTA_FLIPS = {"none": [()], "hflip": [(), (3,)], "flip4": [(), (3,), (2,), (2, 3)]}


def tta_forward(net: nn.Module, x: torch.Tensor, mode: str):
    """Run the net on flipped copies of x in ONE batch and average the logits (masks unflipped).
    The embedding is the un-flipped one (the OOD gate is fitted on it)."""
    flips = TTA_FLIPS[mode]
    n = x.shape[0]
    batch = torch.cat([torch.flip(x, dims=list(f)) if f else x for f in flips], dim=0) if len(flips) > 1 else x
    mask, scores, emb = net(batch)
    masks = [torch.flip(mask[i * n:(i + 1) * n], dims=list(f)) if f else mask[i * n:(i + 1) * n]
             for i, f in enumerate(flips)]
    mask_avg = torch.stack(masks).mean(dim=0) if len(flips) > 1 else mask
    scores_avg = scores.view(len(flips), n, -1).mean(dim=0) if len(flips) > 1 else scores
    return mask_avg, scores_avg, emb[:n]


class ServingModel(nn.Module):
    """The ONNX contract: uint8 [N,H,W,3] RGB in; mask logits [N,1,H,W], score logits [N,2]
    (melanoma, seborrheic keratosis) and an OOD score [N] out. Normalisation lives in the graph;
    flip test-time augmentation (chosen on Validation) averages logits inside the graph."""

    def __init__(self, net: nn.Module, gate: OodGate | None, tta: str = "none"):
        super().__init__()
        self.net = net
        self.gate = gate
        self.tta = tta

    def forward(self, image: torch.Tensor):
        x = image.permute(0, 3, 1, 2).float()
        mask, scores, emb = tta_forward(self.net, x, self.tta)
        ood = self.gate(emb) if self.gate is not None else torch.zeros_like(scores[:, 0])
        return mask, scores, ood
