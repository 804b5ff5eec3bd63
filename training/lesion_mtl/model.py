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
# Lesion zoom: the box is the predicted mask's centre ± ZOOM_SIGMAS standard deviations (a filled
# ellipse's semi-axis is 2 σ, so 2.6 leaves ~30 % margin), never under ZOOM_MIN_SCALE of the frame.
ZOOM_SIGMAS = 2.6
ZOOM_MIN_SCALE = 0.25
ZOOM_CONFIDENT_AREA = 0.01  # predicted lesion share from which the box is trusted fully; below it
# the box blends towards the whole frame
SHADES_OF_GREY_P = 6  # Minkowski norm of the illuminant estimate (Finlayson & Trezzi 2004; p = 6 in
# Barata et al. 2015 for dermoscopy)


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


def shades_of_grey(x: torch.Tensor, p: int = SHADES_OF_GREY_P) -> torch.Tensor:
    """Colour constancy on float RGB [N,3,H,W] in [0, 255]: estimate each image's illuminant as the
    per-channel Minkowski p-mean and scale the channels so it becomes grey, keeping the mean of the
    three estimates (overall brightness); clipped to [0, 255]. Dermoscopes and clinics differ in
    white balance; this removes the cast before the network sees the image."""
    illuminant = ((x / 255.0) ** p).mean(dim=(2, 3), keepdim=True) ** (1.0 / p) + 1e-3
    gain = illuminant.mean(dim=1, keepdim=True) / illuminant
    return torch.clamp(x * gain, 0.0, 255.0)


def pixel_centres(n: int, like: torch.Tensor) -> torch.Tensor:
    """Normalised coordinates in [-1, 1] of n pixel centres (grid_sample, align_corners=False)."""
    return (torch.arange(n, dtype=like.dtype, device=like.device) + 0.5) * (2.0 / n) - 1.0


def lesion_box(prob: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(cx, cy, scale), each [N], of a box around the lesion in normalised frame coordinates, from
    a lesion probability map [N,1,h,w]: centre = probability-weighted mean, half-extent =
    ZOOM_SIGMAS weighted standard deviations along the axis where the lesion is wider relative to
    that side of the frame (one scale for both normalised axes keeps the frame's aspect ratio).
    When the predicted lesion covers less than ZOOM_CONFIDENT_AREA of the frame, the box blends
    linearly towards the whole frame (nothing predicted: the whole frame).
    Moments rather than the thresholded mask's extremes: the box moves continuously with the
    probabilities, so tiny numeric differences (PyTorch vs onnxruntime) cannot jump it."""
    n, _, h, w = prob.shape
    p = prob.reshape(n, h, w)
    xs, ys = pixel_centres(w, p).view(1, 1, w), pixel_centres(h, p).view(1, h, 1)
    mass = p.sum(dim=(1, 2)) + 1e-6
    cx = (p * xs).sum(dim=(1, 2)) / mass
    cy = (p * ys).sum(dim=(1, 2)) / mass
    sx = ((p * (xs - cx.view(n, 1, 1)) ** 2).sum(dim=(1, 2)) / mass + 1e-8).sqrt()
    sy = ((p * (ys - cy.view(n, 1, 1)) ** 2).sum(dim=(1, 2)) / mass + 1e-8).sqrt()
    scale = torch.clamp(ZOOM_SIGMAS * torch.maximum(sx, sy), ZOOM_MIN_SCALE, 1.0)
    # little or no lesion predicted: fall back smoothly towards the whole frame
    confidence = torch.clamp(p.mean(dim=(1, 2)) / ZOOM_CONFIDENT_AREA, 0.0, 1.0)
    return cx * confidence, cy * confidence, confidence * scale + (1 - confidence)


def keep_inside(cx: torch.Tensor, cy: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Clamp the centre so the box [c - scale, c + scale] stays inside [-1, 1]."""
    lim = 1.0 - scale
    return torch.maximum(torch.minimum(cx, lim), -lim), torch.maximum(torch.minimum(cy, lim), -lim)


def box_grid(cx: torch.Tensor, cy: torch.Tensor, scale: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """grid_sample grid [N,h,w,2] that resamples the box onto an h x w output."""
    n = cx.shape[0]
    gx = cx.view(n, 1, 1) + scale.view(n, 1, 1) * pixel_centres(w, cx).view(1, 1, w)
    gy = cy.view(n, 1, 1) + scale.view(n, 1, 1) * pixel_centres(h, cx).view(1, h, 1)
    return torch.stack([gx.expand(n, h, w), gy.expand(n, h, w)], dim=-1)


def attention_pool(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean of features [N,C,h,w] weighted by a lesion probability map [N,1,h,w]."""
    return (features * weights).sum(dim=(2, 3)) / (weights.sum(dim=(2, 3)) + 1e-3)


class LesionMTL(nn.Module):
    """Input: float RGB in [0, 255], NCHW. Output: (mask_logits [N,1,H,W], score_logits [N,2],
    embedding [N,1280+L]) — the embedding (global pool of the deepest features, then low-level
    colour/texture statistics) feeds the out-of-distribution gate only.

    zoom=True adds a second pass of the SAME encoder over the lesion's box (from the predicted
    mask), resampled to the input size: at 192x256 a small lesion covers one or two cells of the
    stride-32 grid, and the zoomed view shows it to the classifiers at the scale the ImageNet
    filters expect. The heads then see the whole-frame and the zoomed pools. Measured on the
    256x192 copies it did not help (docs/ablation-zoom.md), likely because resampling adds no
    detail; note the zoomed lesion pool's weights come from the coarse stride-32 map.

    colour_constancy=True feeds the network the Shades-of-Grey corrected image (shades_of_grey)."""

    def __init__(self, decoder_channels=(96, 64, 32, 24), dropout: float = 0.3, width_mult: float = 1.0,
                 zoom: bool = False, colour_constancy: bool = False):
        super().__init__()
        self.zoom = zoom
        self.colour_constancy = colour_constancy
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
        n_pools = 4 if zoom else 2  # [global, lesion] pools of the frame (and of the zoomed box)
        self.cls_heads = nn.ModuleList([BinaryHead(n_pools * head_ch, dropout) for _ in range(2)])

    def _out_channels(self, idx: int) -> int:
        block = self.encoder[idx]
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        return convs[-1].out_channels

    def forward(self, x: torch.Tensor):
        h, w = x.shape[-2:]
        if not torch.jit.is_tracing() and (h % 32 or w % 32):
            raise ValueError(f"input {h}x{w}: height and width must be multiples of 32, "
                             f"e.g. {-(-h // 32) * 32}x{-(-w // 32) * 32}")
        image = (x - self.mean) / self.std
        # low-level image statistics for the OOD gate: colour, contrast, early-layer texture (of the
        # image as uploaded: a colour cast is part of what makes a picture unlike the training set)
        low = [image.mean(dim=(2, 3)), image.std(dim=(2, 3))]
        if self.colour_constancy:
            image = (shades_of_grey(x) - self.mean) / self.std
        skips, deep, top = self.encode(image)
        y = deep
        for stage, skip in zip(self.decoder, reversed(skips)):
            y = stage(y, skip)
        half = self.mask_head(y)  # stride 2
        mask_logits = F.interpolate(half, size=(h, w), mode="bilinear", align_corners=False)
        # Mask-attention pooling: the classifier also looks at the lesion, not only the whole frame.
        prob = torch.sigmoid(half.detach())
        attn = F.avg_pool2d(prob, kernel_size=16)
        gap = top.mean(dim=(2, 3))
        pools = [gap, attention_pool(top, attn)]
        if self.zoom:
            pools += self.zoom_pools(image, F.avg_pool2d(prob, kernel_size=4), attn)
        feat = torch.cat(pools, dim=1)
        scores = torch.cat([head(feat) for head in self.cls_heads], dim=1)
        for skip in skips[:3]:  # strides 2, 4, 8
            low += [skip.mean(dim=(2, 3)), skip.std(dim=(2, 3))]
        return mask_logits, scores, torch.cat([gap] + low, dim=1)

    def encode(self, x: torch.Tensor):
        """(skips at strides 2/4/8/16, the stride-32 320-ch features, the 1280-ch top)."""
        skips, deep = [], x
        for i, block in enumerate(self.encoder):
            x = block(x)
            if i in SKIP_TAPS:
                skips.append(x)
            if i == DEEP_TAP:
                deep = x
        return skips, deep, x

    def zoom_pools(self, image: torch.Tensor, box_prob: torch.Tensor, attn: torch.Tensor) -> list[torch.Tensor]:
        """Global and lesion pools of the encoder run on the lesion's box (see the class note);
        box_prob: lesion probabilities at stride 8, attn: at stride 32 (the pooling weights)."""
        h, w = image.shape[-2:]
        cx, cy, scale = lesion_box(box_prob)
        if self.training:  # jitter the box so the heads do not depend on its exact placement
            n = cx.shape[0]
            scale = torch.clamp(scale * torch.exp((torch.rand(n, device=cx.device) - 0.5) * 0.3), max=1.0)
            cx = cx + (torch.rand(n, device=cx.device) - 0.5) * 0.2 * scale
            cy = cy + (torch.rand(n, device=cx.device) - 0.5) * 0.2 * scale
        cx, cy = keep_inside(cx, cy, scale)
        crop = F.grid_sample(image, box_grid(cx, cy, scale, h, w), mode="bilinear",
                             padding_mode="border", align_corners=False)
        top = self.encode(crop)[2]
        crop_attn = F.grid_sample(attn, box_grid(cx, cy, scale, top.shape[-2], top.shape[-1]),
                                  mode="bilinear", padding_mode="border", align_corners=False)
        return [top.mean(dim=(2, 3)), attention_pool(top, crop_attn)]

    def freeze_encoder_bn(self) -> None:
        """The ImageNet copy has batch norm folded into biases (mean 0, var 1-eps): keep its
        statistics fixed so training does not overwrite them with tiny-batch estimates."""
        for m in self.encoder.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def freeze_all_bn(self) -> None:
        """A member rebuilt from an exported file (onnx_weights) has every batch norm folded into its
        convolution: keep all their statistics fixed (the affine parameters still train)."""
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def frozen_parameters(self, blocks: int = FROZEN_BLOCKS):
        for block in list(self.encoder)[:blocks]:
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
