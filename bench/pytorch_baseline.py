#!/usr/bin/env python3
"""PyTorch-eager baseline for `npm run bench`: what a user who skipped ONNX might run.

The same network class as training (training/lesion_mtl/model.py: LesionMTL inside the
ServingModel wrapper, so the graph is the ONNX export's: uint8 NHWC in, normalisation and the
optional hflip TTA in forward), built with the architecture settings from the model's sidecar
(width_mult, decoder_channels, input size, ensemble members). Weights are RANDOM (the OOD gate too): that does not
change the arithmetic, so it does not change the speed.

End to end per image, with Pillow only (a typical user pipeline; no shrink-on-load):
    bytes -> Image.open + EXIF transpose + RGB        (decode)
          -> preview (long side <= 1024) and model-size resize, bilinear   (resize)
          -> torch forward under no_grad              (inference)
          -> sigmoid -> uint8 probabilities, mask upsampled to the original size (bilinear),
             binarised at > 128, preview mask          (postprocess; no connected-component
             cleaning: scipy is not installed for /usr/bin/python3)
          -> mask PNG + overlay JPEG (outline on the preview), result JSON   (encode)

Prints one JSON object on stdout. Run with the Debian interpreter (torch 1.13):
    /usr/bin/python3 bench/pytorch_baseline.py --sidecar models/lesion-mtl.json --image a.jpg ...
"""
from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "training"))

from lesion_mtl.model import HEAD_CHANNELS, TTA_FLIPS, Ensemble, LesionMTL, OodGate, ServingModel  # noqa: E402

OVERLAY_MAX_SIDE = 1024
OVERLAY_COLOUR = (0, 255, 96)


def percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary(xs: list[float]) -> dict:
    return {
        "n": len(xs),
        "mean": sum(xs) / len(xs) if xs else float("nan"),
        "p50": percentile(xs, 50),
        "p95": percentile(xs, 95),
        "min": min(xs) if xs else float("nan"),
        "max": max(xs) if xs else float("nan"),
    }


def build_model(sidecar: dict) -> tuple[ServingModel, int, int, int | None]:
    cfg = (sidecar.get("training") or {}).get("config") or {}
    h = int(sidecar["input"]["height"])
    w = int(sidecar["input"]["width"])
    kwargs = {}
    if "width_mult" in cfg:
        kwargs["width_mult"] = float(cfg["width_mult"])
    if "decoder_channels" in cfg:
        kwargs["decoder_channels"] = tuple(int(c) for c in cfg["decoder_channels"])
    torch.manual_seed(0)
    members = int((sidecar.get("architecture") or {}).get("members") or 1)  # an ensemble runs every member
    nets = [LesionMTL(**kwargs).eval() for _ in range(members)]
    net = nets[0] if members == 1 else Ensemble(nets).eval()
    flops = None
    try:
        from lesion_mtl.export import count_flops

        flops, _ = count_flops(net, h, w)
    except Exception:  # noqa: BLE001 - FLOPs are optional context
        flops = None
    tta = sidecar.get("testTimeAugmentation") or "none"
    if flops is not None:
        flops *= len(TTA_FLIPS.get(tta, [()]))
    gate = None
    if sidecar.get("outputs", {}).get("oodScore"):
        with torch.no_grad():
            d = int(net(torch.zeros(1, 3, h, w))[2].shape[1])
        rng = np.random.default_rng(0)
        k = 32
        split = HEAD_CHANNELS  # deep global pool first, low-level statistics after it
        comps, _ = np.linalg.qr(rng.standard_normal((split, k)))
        low = d - split
        gate = OodGate(split, np.zeros(d), comps.T, np.ones(k), 1.0, np.eye(low), 1.0, 1.0)
    return ServingModel(net, gate, tta=tta).eval(), h, w, flops


def outline(mask: Image.Image, thickness: int) -> Image.Image:
    """Pixels inside the mask within `thickness` of its edge (as the TS overlay draws)."""
    size = 2 * thickness + 1
    eroded = mask.filter(ImageFilter.MinFilter(size))
    return Image.fromarray(((np.asarray(mask) > 0) & (np.asarray(eroded) == 0)).astype(np.uint8) * 255)


def analyse(model: ServingModel, data: bytes, h: int, w: int) -> dict:
    t = {}
    t0 = time.perf_counter()
    img = Image.open(io.BytesIO(data))
    img = ImageOps.exif_transpose(img).convert("RGB")
    t["decode"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    width, height = img.size
    scale = min(1.0, OVERLAY_MAX_SIDE / max(width, height))
    pv_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    preview = img.resize(pv_size, Image.BILINEAR) if scale < 1 else img
    rotated = height > width
    src = preview.transpose(Image.ROTATE_270) if rotated else preview
    model_in = src.resize((w, h), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(model_in, dtype=np.uint8).copy()).unsqueeze(0)
    t["resize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with torch.no_grad():
        mask_logits, scores, ood = (o.cpu() for o in model(x.to(next(model.parameters()).device)))
    t["inference"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    prob = torch.sigmoid(mask_logits[0, 0]).numpy()
    prob_img = Image.fromarray(np.clip(prob * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if rotated:
        prob_img = prob_img.transpose(Image.ROTATE_90)
    full = np.asarray(prob_img.resize((width, height), Image.BILINEAR)) > 128
    pv_mask = np.asarray(prob_img.resize(preview.size, Image.BILINEAR)) > 128
    cls = torch.sigmoid(scores[0]).tolist()
    area = float(pv_mask.mean())
    t["postprocess"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    buf = io.BytesIO()
    Image.fromarray(full.astype(np.uint8) * 255).save(buf, format="PNG", compress_level=6)
    mask_png = buf.getvalue()
    thickness = max(2, round(max(preview.size) / 300))
    edge = outline(Image.fromarray(pv_mask.astype(np.uint8) * 255), thickness)
    overlay = preview.copy()
    overlay.paste(OVERLAY_COLOUR, mask=edge)
    buf = io.BytesIO()
    overlay.save(buf, format="JPEG", quality=90)
    overlay_jpeg = buf.getvalue()
    result = json.dumps({
        "image": {"width": width, "height": height, "bytes": len(data)},
        "segmentation": {"areaFraction": area},
        "classification": {"melanoma": cls[0], "seborrheicKeratosis": cls[1]},
        "quality": {"oodScore": float(ood[0])},
        "maskPngBytes": len(mask_png),
        "overlayJpegBytes": len(overlay_jpeg),
    }, indent=2)
    t["encode"] = time.perf_counter() - t0
    t["total"] = sum(t.values())
    t["_result_bytes"] = len(result)
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description="PyTorch-eager baseline (random weights)")
    ap.add_argument("--sidecar", required=True, type=Path)
    ap.add_argument("--image", action="append", default=[], help="image file (repeatable)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--e2e-warmup", type=int, default=1)
    ap.add_argument("--e2e-iters", type=int, default=5)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the GPU check, scripts/gpu/)")
    ap.add_argument("--batches", default="", help="comma-separated batch sizes: model-only images/s at each, "
                    "host copies included (as onnxruntime-node's session.run is timed)")
    ap.add_argument("--min-seconds", type=float, default=3.0, help="time spent per batch size")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    sidecar = json.loads(args.sidecar.read_text())
    model, h, w, flops = build_model(sidecar)
    device = torch.device(args.device)
    model = model.to(device)
    build_s = time.perf_counter() - t0

    def run(x: torch.Tensor) -> None:
        """One forward from host memory to host memory (the input copy and the outputs' copies timed)."""
        with torch.no_grad():
            outs = model(x.to(device))
            for o in outs:
                o.cpu()

    x = torch.randint(0, 256, (1, h, w, 3), dtype=torch.uint8)
    lat = []
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        run(x)
        if i >= args.warmup:
            lat.append((time.perf_counter() - t0) * 1000)

    throughput = []
    for b in [int(v) for v in args.batches.split(",") if v]:
        xb = torch.randint(0, 256, (b, h, w, 3), dtype=torch.uint8)
        for _ in range(max(1, args.warmup // b)):
            run(xb)
        runs = []
        start = time.perf_counter()
        while time.perf_counter() - start < args.min_seconds or len(runs) < 3:
            t0 = time.perf_counter()
            run(xb)
            runs.append((time.perf_counter() - t0) * 1000)
        throughput.append({"batch": b, "perRun": summary(runs), "imagesPerSecond": b * 1000 / percentile(runs, 50)})

    images = []
    for path in args.image:
        data = Path(path).read_bytes()
        runs = []
        for i in range(args.e2e_warmup + args.e2e_iters):
            t = analyse(model, data, h, w)
            if i >= args.e2e_warmup:
                runs.append(t)
        stages = {k: summary([r[k] * 1000 for r in runs]) for k in
                  ("decode", "resize", "inference", "postprocess", "encode", "total")}
        images.append({"path": path, "bytes": len(data), "stages": stages})

    print(json.dumps({
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "device": str(device),
        "weights": "random (speed only)",
        "input": {"height": h, "width": w},
        "tta": model.tta,
        "flops": flops,
        "buildSeconds": build_s,
        "modelOnly": summary(lat),
        "throughput": throughput,
        "images": images,
    }))


if __name__ == "__main__":
    main()
