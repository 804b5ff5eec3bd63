"""Calibration on Validation, the OOD gate, ONNX export and the sidecar contract.

The sidecar (models/<name>.json) is the single source of truth the TypeScript side reads:
input size and layout, output names and kinds, thresholds, temperatures, OOD threshold."""
from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import os

import numpy as np
import onnx
import torch
from PIL import Image

from .data import CLASSES
from .metrics import fit_temperature, sens_spec, threshold_at_sensitivity
from .model import HEAD_CHANNELS, IMAGENET_MEAN, IMAGENET_STD, TTA_FLIPS, Ensemble, OodGate, ServingModel

CONTRACT_VERSION = 1
OPSET = 17
OOD_COMPONENTS = 32
OOD_QUANTILE = 0.995  # share of held-out Validation images the gate must let through


def count_flops(model: torch.nn.Module, h: int, w: int) -> tuple[int, int]:
    """(multiply-accumulates * 2, parameters) for one image, counting conv and linear layers."""
    macs = [0]

    def conv_hook(m, _inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        macs[0] += out.numel() * k

    def lin_hook(m, _inp, out):
        macs[0] += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, h, w))
    for hk in hooks:
        hk.remove()
    return 2 * macs[0], sum(p.numel() for p in model.parameters())


def fit_ood_gate(train_emb: np.ndarray, split: int) -> OodGate:
    """Fit both views of the gate on Training embeddings (float64)."""
    mu = train_emb.mean(axis=0)
    d = train_emb - mu
    deep, low = d[:, :split], d[:, split:]
    _, s, vt = np.linalg.svd(deep, full_matrices=False)
    k = min(OOD_COMPONENTS, vt.shape[0])
    eig = (s[:k] ** 2) / (len(d) - 1) + 1e-6
    comps = vt[:k]
    resid = deep - (deep @ comps.T) @ comps
    resid_var = float((resid ** 2).sum(axis=1).mean() / max(1, deep.shape[1] - k)) + 1e-8
    cov = np.cov(low, rowvar=False)
    # shrink towards the diagonal: stable inverse with a few thousand samples
    cov = 0.9 * cov + 0.1 * np.diag(np.diag(cov)) + 1e-6 * np.eye(len(cov))
    gate = OodGate(split, mu, comps, eig, resid_var, np.linalg.inv(cov), 1.0, 1.0)
    with torch.no_grad():
        d_deep, d_low = gate.distances(torch.from_numpy(train_emb.astype(np.float32)))
    gate.deep_scale = float(np.median(d_deep.numpy()))
    gate.low_scale = float(np.median(d_low.numpy()))
    return gate


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def onnx_export(module: torch.nn.Module, example: torch.Tensor, path: str) -> None:
    kwargs = dict(
        input_names=["image"], output_names=["mask", "scores", "ood_score"],
        dynamic_axes={"image": {0: "batch"}, "mask": {0: "batch"}, "scores": {0: "batch"},
                      "ood_score": {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: same graph on torch 1.13 and 2.x
    torch.onnx.export(module, (example,), path, **kwargs)
    onnx.checker.check_model(onnx.load(path))


def export_model(cfg: dict, model: torch.nn.Module, tr, va, evaluate, predict, info: dict) -> dict:
    h, w = cfg["height"], cfg["width"]
    ham = info.get("ham")
    pass_flops, params = count_flops(model, h, w)
    if params > cfg["max_params"]:
        raise SystemExit(f"{params:,} parameters, over max_params={cfg['max_params']:,}")
    # 1. test-time augmentation: chosen on Validation among the modes within the FLOP budget;
    # candidates are listed cheapest first; take the cheapest within tolerance of the best
    affordable = [t for t in cfg["tta_candidates"] if pass_flops * len(TTA_FLIPS[t]) <= cfg["max_gflops"] * 1e9]
    if not affordable:
        raise SystemExit(f"one pass costs {pass_flops / 1e9:.2f} GFLOPs, over max_gflops={cfg['max_gflops']}")
    candidates = {t: evaluate(model, va, t) for t in affordable}
    best_score = max(m["score"] for m in candidates.values())
    tta = next(t for t in affordable if candidates[t]["score"] >= best_score - cfg["tta_tolerance"])
    val = candidates[tta]
    print(f"tta on Validation: { {t: round(m['score'], 4) for t, m in candidates.items()} } -> {tta}", flush=True)

    # 2. calibration + operating points on Validation
    _, val_logits, val_emb = predict(model, va.images, tta)
    classes = []
    for i, name in enumerate(CLASSES):
        y = va.labels[:, i]
        temp = fit_temperature(val_logits[:, i], y) if 0 < y.sum() < len(y) else 1.0
        prob = 1 / (1 + np.exp(-val_logits[:, i] / temp))
        thr = threshold_at_sensitivity(prob, y, cfg["sensitivity_target"])
        sens, spec = sens_spec(prob, y, thr)
        classes.append({
            "id": name, "label": {"melanoma": "Melanoma", "seborrheic_keratosis": "Seborrheic keratosis"}[name],
            "temperature": round(temp, 6), "threshold": float(thr),
            "operatingPoint": {"sensitivity": sens, "specificity": spec, "split": "Validation",
                               "targetSensitivity": cfg["sensitivity_target"]},
        })

    # 3. OOD gate fitted on Training embeddings, threshold on held-out Validation
    _, _, tr_emb = predict(model, tr.images, "none")
    gate = fit_ood_gate(tr_emb.astype(np.float64), HEAD_CHANNELS)
    with torch.no_grad():
        val_ood = gate(torch.from_numpy(val_emb)).numpy()
    ood_threshold = float(np.quantile(val_ood, OOD_QUANTILE))

    # 4. ONNX export + sidecar
    os.makedirs(cfg["output"], exist_ok=True)
    onnx_path = os.path.join(cfg["output"], f"{cfg['name']}.onnx")
    serving = ServingModel(model, gate, tta).eval()
    example = torch.from_numpy(va.images[:1].copy())
    onnx_export(serving, example, onnx_path)
    flops = pass_flops * len(TTA_FLIPS[tta])
    members = len(model.members) if isinstance(model, Ensemble) else 1
    sidecar = {
        "contractVersion": CONTRACT_VERSION,
        "name": cfg["name"],
        "version": cfg["version"],
        "sha256": sha256_file(onnx_path),
        "file": os.path.basename(onnx_path),
        "createdAt": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "input": {"name": "image", "dtype": "uint8", "layout": "NHWC", "height": h, "width": w,
                  "channels": 3, "colorSpace": "sRGB", "orientation": "landscape",
                  "normalization": {"inGraph": True, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
                                    "scale": 255}},
        "outputs": {
            "mask": {"name": "mask", "shape": ["N", 1, h, w], "kind": "logits", "threshold": 0.5},
            "scores": {"name": "scores", "shape": ["N", len(CLASSES)], "kind": "logits",
                       "classes": list(CLASSES)},
            "oodScore": {"name": "ood_score", "shape": ["N"], "kind": "distance",
                         "threshold": ood_threshold,
                         "description": "max of two Mahalanobis distances to the Training set, each "
                                        "divided by its Training median: the deep global pool "
                                        f"({OOD_COMPONENTS} whitened PCA components + residual) and "
                                        "colour/contrast/early-texture statistics; threshold = the "
                                        f"{OOD_QUANTILE:.1%} quantile on Validation"},
        },
        "classes": classes,
        "testTimeAugmentation": tta,
        "testTimeAugmentationScores": {t: round(m["score"], 4) for t, m in candidates.items()},
        "architecture": {"encoder": f"MobileNetV2 (width {cfg['width_mult']}, "
                                    + (f"warm-started from member {cfg['init_member']} of {cfg['init_from']})"
                                       if cfg["init_from"] else "ImageNet init)")
                                    + (", Shades-of-Grey colour constancy (p = 6) on its input"
                                       if cfg["colour_constancy"] else ""),
                         "decoder": f"depthwise-separable U-Net {cfg['decoder_channels']}",
                         "heads": "2 independent binary heads (LayerNorm, dropout, linear) on [global pool, mask-attention pool]"
                                  + (" of the whole frame and of a second encoder pass over the predicted lesion's box"
                                     if cfg["zoom"] else ""),
                         "members": members, "parameters": params, "flops": flops},
        "training": {"data": "ISIC 2017 (Codella et al. 2017, arXiv:1710.05006), 256x192 copies"
                             + (" + HAM10000 (Tschandl et al. 2018, Scientific Data 5, 180161; licence CC BY-NC-SA"
                                " 4.0, which the model inherits), 200x150 copies; its seborrheic-keratosis label is"
                                " not used (loss masked" + ("; the teacher's soft targets only" if cfg["teacher"] else "")
                                + ")" if ham else ""),
                     "trainImages": len(tr.ids) + (ham["train_images"] if ham else 0),
                     **({"hamTrainImages": ham["train_images"], "hamHoldoutImages": len(ham["holdout"].ids)}
                        if ham else {}),
                     "validationImages": len(va.ids),
                     **({k: info["members"][0][k] for k in ("epochs", "bestEpoch", "seed")}
                        if members == 1 else {"members": info["members"]}),
                     "seconds": info["train_seconds"], "hardware": info["hardware"], "torch": info["torch"],
                     "command": "python3 training/train.py --config <config>", "config": cfg},
        "metrics": {"validation": {"source": "training/lesion_mtl (selection)", **val,
                                   "oodFlaggedRate": float((val_ood > ood_threshold).mean())},
                    **({"hamHoldout": {"source": "training/lesion_mtl (selection)",
                                       **(ham["metrics"] if ham.get("metrics") and tta == "none"
                                          else evaluate(model, ham["holdout"], tta)),
                                       "note": "HAM10000 hold-out grouped by lesion_id; seborrheic_keratosis AUC "
                                               "against dx bkl, a weak label"}} if ham else {})},
    }
    with open(os.path.join(cfg["output"], f"{cfg['name']}.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")

    # 5. parity fixtures: exact uint8 inputs (lossless PNG) and PyTorch's outputs for them
    pdir = os.path.join(cfg["output"], "parity")
    os.makedirs(pdir, exist_ok=True)
    n = min(cfg["parity_images"], len(va.ids))
    with torch.no_grad():
        pm, ps, po = serving(torch.from_numpy(va.images[:n].copy()))
    cases = []
    for i in range(n):
        Image.fromarray(va.images[i]).save(os.path.join(pdir, f"{va.ids[i]}.png"))
        Image.fromarray(((pm[i, 0] > 0).numpy() * 255).astype(np.uint8)).save(
            os.path.join(pdir, f"{va.ids[i]}_mask.png"))
        cases.append({"id": va.ids[i], "image": f"{va.ids[i]}.png", "mask": f"{va.ids[i]}_mask.png",
                      "scores": ps[i].tolist(), "oodScore": float(po[i]),
                      "maskLogitMean": float(pm[i].mean())})
    with open(os.path.join(pdir, "parity.json"), "w") as f:
        json.dump({"model": sidecar["sha256"], "torch": torch.__version__, "cases": cases}, f, indent=2)
    sidecar["files"] = [onnx_path, os.path.join(cfg["output"], f"{cfg['name']}.json"), pdir]
    return sidecar
