"""Train → select on Validation → calibrate → export, from one JSON config.

    python3 training/train.py --config training/configs/default.json
    python3 training/train.py --config ... --export-only   # re-run selection/export on a run dir
    python3 training/train.py --config ... --member 2      # train one ensemble member only

Every epoch writes runs/<name>/last.pt and a JSON log line; the best epoch on Validation
(mean Jaccard + mean AUC) is kept as best.pt. Test_v2 is never read here.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time

import numpy as np
import torch

from .augment import augment_batch, degrade_scale
from .data import CLASSES, load_split
from .export import export_model
from .ham import HAM_SCALE, config_ids, ham_splits
from .losses import balanced_bce_loss, dice_bce_loss, distillation_loss, masked_balanced_bce
from .metrics import jaccard_per_image, roc_auc
from .model import Ensemble, LesionMTL, load_imagenet_encoder, tta_forward
from .onnx_weights import load_members
from .config import DEFAULTS, load_config
from .run_files import log_entries, trained_on

def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


EMA_FORMAT = 2  # 2: warm-up decay, batch-norm statistics copied (not averaged)


class Ema:
    """Exponential moving average of the parameters (evaluated, exported). The decay warms up as
    min(decay, (1 + step) / (10 + step)) so early averages are not dominated by the random init,
    and batch-norm running statistics are copied: averaging them lags far behind the weights."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}
        params = {k for k, _ in model.named_parameters()}
        self.averaged = [k for k in self.shadow if k in params]  # the rest (BN statistics) is copied
        self.copied = [k for k in self.shadow if k not in params]

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        live = model.state_dict()
        # one fused call per list instead of ~600 small ops: the per-step cost on a GPU
        shadow = [self.shadow[k] for k in self.averaged]
        torch._foreach_mul_(shadow, decay)
        torch._foreach_add_(shadow, [live[k] for k in self.averaged], alpha=1 - decay)
        for k in self.copied:
            self.shadow[k].copy_(live[k])


@torch.no_grad()
def predict(model: torch.nn.Module, images: np.ndarray, tta: str = "none", batch: int = 32):
    """Returns mask probabilities [N,H,W], score logits [N,2] and embeddings [N,D]; runs on the
    model's device."""
    model.eval()
    device = next(model.parameters()).device
    masks, scores, embs = [], [], []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch]).to(device).permute(0, 3, 1, 2).float()
        m, s, e = tta_forward(model, x, tta)
        masks.append(torch.sigmoid(m[:, 0]).cpu().numpy())
        scores.append(s.cpu().numpy())
        embs.append(e.cpu().numpy())
    return np.concatenate(masks), np.concatenate(scores), np.concatenate(embs)


def evaluate(model: torch.nn.Module, split, tta: str = "none") -> dict:
    probs, logits, _ = predict(model, split.images, tta)
    jac = jaccard_per_image(probs > 0.5, split.masks > 0)
    aucs = {c: roc_auc(logits[:, i], split.labels[:, i]) for i, c in enumerate(CLASSES)}
    valid = [a for a in aucs.values() if a is not None]
    mean_auc = float(np.mean(valid)) if valid else 0.0
    return {
        "jaccard": float(jac.mean()),
        "thresholded_jaccard": float(np.where(jac >= 0.65, jac, 0).mean()),
        "auc": aucs,
        "mean_auc": mean_auc,
        "score": float(jac.mean()) + mean_auc,
    }


def selection_score(cfg: dict, val: dict, ham: dict | None) -> float:
    """The number best.pt maximises: ISIC Validation mean Jaccard + mean AUC, plus, with
    selection "isic+ham", the HAM hold-out's mean Jaccard + melanoma AUC (its SK label is weak)."""
    if cfg["selection"] == "isic+ham":
        if ham is None:
            raise SystemExit('selection "isic+ham" needs "ham"')
        return val["score"] + ham["jaccard"] + (ham["auc"]["melanoma"] or 0.0)
    return val["score"]


def epoch_indices(cfg: dict, n_isic: int, ham_labels: np.ndarray | None, gen: torch.Generator) -> torch.Tensor:
    """Indices into [ISIC Training, HAM train] for one epoch, shuffled: isic_per_epoch ISIC images
    (whole permutations repeated, default each once) and ham_per_epoch HAM images drawn without
    replacement, with ham_mel_share of them melanomas when set (per-source balance)."""
    if ham_labels is None and cfg["isic_per_epoch"] is None:
        return torch.randperm(n_isic, generator=gen)  # the ISIC-only recipe's stream, as before
    n_isic_ep = cfg["isic_per_epoch"] or n_isic
    reps = -(-n_isic_ep // n_isic)
    parts = [torch.cat([torch.randperm(n_isic, generator=gen) for _ in range(reps)])[:n_isic_ep]]
    if ham_labels is not None and cfg["ham_per_epoch"]:
        k = min(cfg["ham_per_epoch"], len(ham_labels))
        if cfg["ham_mel_share"] is None:
            pick = torch.randperm(len(ham_labels), generator=gen)[:k]
        else:
            mel = torch.from_numpy(np.flatnonzero(ham_labels[:, 0] > 0.5))
            rest = torch.from_numpy(np.flatnonzero(ham_labels[:, 0] <= 0.5))
            k_mel = min(len(mel), int(round(k * cfg["ham_mel_share"])))
            pick = torch.cat([mel[torch.randperm(len(mel), generator=gen)[:k_mel]],
                              rest[torch.randperm(len(rest), generator=gen)[:k - k_mel]]])
        parts.append(pick + n_isic)
    idx = torch.cat(parts)
    return idx[torch.randperm(len(idx), generator=gen)]


def lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def build_model(cfg: dict) -> LesionMTL:
    return LesionMTL(decoder_channels=tuple(cfg["decoder_channels"]), dropout=cfg["dropout"],
                     width_mult=cfg["width_mult"], zoom=cfg["zoom"], colour_constancy=cfg["colour_constancy"])


def build_teacher(cfg: dict) -> torch.nn.Module | None:
    """The distillation teacher: every member of cfg["teacher"] (an exported ONNX file) rebuilt in
    PyTorch, logits averaged, no TTA; frozen, eval mode."""
    if not cfg["teacher"]:
        return None
    members = load_members(cfg["teacher"], lambda: build_model(cfg))
    teacher = (members[0] if len(members) == 1 else Ensemble(members)).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def training_device(cfg: dict) -> torch.device:
    if cfg["device"] == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if cfg["device"] == "cuda" and not torch.cuda.is_available():
        raise SystemExit('config asks for device "cuda" but torch sees no CUDA device')
    return torch.device(cfg["device"])


def hardware_name(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.machine()} CPU x{threads} threads"


def train(cfg: dict) -> None:
    torch.set_num_threads(cfg["threads"])
    gen = seed_everything(cfg["seed"])
    device = training_device(cfg)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    os.makedirs(cfg["run_dir"], exist_ok=True)
    with open(os.path.join(cfg["run_dir"], "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    size = (cfg["height"], cfg["width"])
    cache = os.path.join(".cache", "isic")
    t0 = time.time()
    tr = load_split(cfg["data"], "Training", size, cfg["limit_train"], cache)
    va = load_split(cfg["data"], "Validation", size, cfg["limit_val"], cache)
    ham_hold, ham_labels = None, None
    images, masks, labels = tr.images, tr.masks, tr.labels
    label_mask = np.ones_like(tr.labels)
    if cfg["ham"]:
        (ham_tr, ham_mask), ham_hold = ham_splits(cfg, size, os.path.join(".cache", "ham"))
        ham_labels = ham_tr.labels
        images = np.concatenate([tr.images, ham_tr.images])
        masks = np.concatenate([tr.masks, ham_tr.masks])
        labels = np.concatenate([tr.labels, ham_tr.labels])
        label_mask = np.concatenate([label_mask, ham_mask])
        print(f"ham: {len(ham_tr.ids)} train / {len(ham_hold.ids)} hold-out", flush=True)
    print(f"data: {len(tr.ids)} train / {len(va.ids)} val in {time.time() - t0:.1f}s on {device}", flush=True)
    # the whole training pool lives on the device (uint8, ~300 MB per 2,000 images at 192x256)
    tr_images = torch.from_numpy(images).to(device)
    tr_masks = torch.from_numpy(masks).to(device)
    tr_labels = torch.from_numpy(labels).to(device)
    tr_label_mask = torch.from_numpy(label_mask).to(device)
    n_isic = len(tr.ids)
    teacher = build_teacher(cfg)
    if teacher is not None:
        teacher.to(device)

    model = build_model(cfg)
    if cfg["init_from"]:
        model.load_state_dict(load_members(cfg["init_from"], lambda: build_model(cfg))[cfg["init_member"]].state_dict())
        print(f"init: member {cfg['init_member']} of {cfg['init_from']}", flush=True)
    elif cfg["pretrained"] and os.path.exists(cfg["pretrained"]):
        n = load_imagenet_encoder(model, cfg["pretrained"])
        print(f"encoder: {n} ImageNet tensors loaded", flush=True)
    else:
        print("encoder: no ImageNet weights found; training from scratch", flush=True)
    model.to(device)
    for p in model.frozen_parameters(cfg["freeze_blocks"]):
        p.requires_grad_(False)
    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    enc_ids = {id(p) for p in model.encoder.parameters()}
    other = [p for p in model.parameters() if id(p) not in enc_ids]
    opt = torch.optim.AdamW([{"params": enc_params, "lr": cfg["encoder_lr"]},
                             {"params": other, "lr": cfg["lr"]}], weight_decay=cfg["weight_decay"])
    base_lrs = [g["lr"] for g in opt.param_groups]
    # positive weight per head from the hard labels that train it (HAM adds melanoma labels only)
    pos = (labels * label_mask).sum(axis=0)
    known = label_mask.sum(axis=0)
    pos_weight = torch.tensor((known - pos) / np.maximum(pos, 1), dtype=torch.float32, device=device)
    ema = Ema(model, cfg["ema_decay"])

    bs = cfg["batch_size"]
    per_epoch = len(epoch_indices(cfg, n_isic, ham_labels, torch.Generator().manual_seed(0)))
    steps_per_epoch = max(1, per_epoch // bs)
    total = steps_per_epoch * cfg["epochs"]
    warmup = steps_per_epoch * cfg["warmup_epochs"]
    start_epoch, best = 0, -1.0
    last_path = os.path.join(cfg["run_dir"], "last.pt")
    if os.path.exists(last_path):  # resume after an interruption
        ck = torch.load(last_path, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if ck.get("ema_format") == EMA_FORMAT:
            ema.shadow = ck["ema"]
        else:  # an EMA kept by an older rule: restart it from the current weights
            print("resume: EMA restarted from the current weights (older EMA format)", flush=True)
        start_epoch, best = ck["epoch"] + 1, ck["best"]
        gen.set_state(ck["gen"].cpu())
        print(f"resumed at epoch {start_epoch}", flush=True)

    if start_epoch >= cfg["epochs"]:
        print(f"{cfg['run_dir']}: all {cfg['epochs']} epochs done", flush=True)
        return
    log = open(os.path.join(cfg["run_dir"], "log.jsonl"), "a")
    eval_model = build_model(cfg).to(device)
    for epoch in range(start_epoch, cfg["epochs"]):
        model.train()
        model.freeze_encoder_bn()
        if cfg["init_from"]:
            model.freeze_all_bn()
        perm = epoch_indices(cfg, n_isic, ham_labels, gen).to(device)
        t_ep, sums = time.time(), torch.zeros(2, device=device)  # summed on the device: no sync per step
        for it in range(steps_per_epoch):
            step = epoch * steps_per_epoch + it
            for g, base in zip(opt.param_groups, base_lrs):
                g["lr"] = base * lr_factor(step, total, warmup)
            idx = perm[it * bs:(it + 1) * bs]
            x = tr_images[idx].permute(0, 3, 1, 2).float()
            m = tr_masks[idx].unsqueeze(1).float()
            y = tr_labels[idx]
            if cfg["ham_scale_prob"] > 0:  # some ISIC images at HAM's coarser scale
                small = (round(size[0] * HAM_SCALE), round(size[1] * HAM_SCALE))  # 150x200 at 192x256
                x = degrade_scale(x, (idx < n_isic).cpu(), cfg["ham_scale_prob"], small, gen)
            x, m = augment_batch(x, m, gen)
            mask_logits, scores, _ = model(x)
            if teacher is not None:
                with torch.no_grad():
                    t_mask, t_scores, _ = teacher(x)
                seg, cls = distillation_loss(mask_logits, scores, m, y, tr_label_mask[idx], pos_weight, t_mask,
                                             t_scores, cfg["distill_alpha"], cfg["distill_temperature"])
            elif cfg["ham"]:
                seg = dice_bce_loss(mask_logits, m)
                cls = masked_balanced_bce(scores, y, pos_weight, tr_label_mask[idx])
            else:
                seg = dice_bce_loss(mask_logits, m)
                cls = balanced_bce_loss(scores, y, pos_weight)
            loss = cfg["seg_weight"] * seg + cfg["cls_weight"] * cls
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
            opt.step()
            ema.update(model, step)
            sums += torch.stack([seg.detach(), cls.detach()])
        eval_model.load_state_dict(ema.shadow)
        metrics = evaluate(eval_model, va)
        ham_metrics = evaluate(eval_model, ham_hold) if ham_hold is not None else None
        score = selection_score(cfg, metrics, ham_metrics)
        improved = score > best
        if improved:
            best = score
            torch.save({"model": {k: v.cpu() for k, v in ema.shadow.items()}, "epoch": epoch, "val": metrics,
                        "ham": ham_metrics, "selection": score}, os.path.join(cfg["run_dir"], "best.pt"))
        seg_loss, cls_loss = (sums / steps_per_epoch).tolist()
        entry = {"epoch": epoch, "seg_loss": seg_loss, "cls_loss": cls_loss, "val": metrics,
                 **({"ham": ham_metrics, "selection": score} if ham_metrics is not None else {}),
                 "best": improved, "seconds": round(time.time() - t_ep, 1)}
        log.write(json.dumps(entry) + "\n")
        log.flush()
        print(json.dumps(entry), flush=True)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "ema": ema.shadow, "epoch": epoch,
                    "best": best, "gen": gen.get_state(), "ema_format": EMA_FORMAT}, last_path)
    log.close()
    with open(os.path.join(cfg["run_dir"], "hardware.txt"), "w") as f:
        f.write(f"{hardware_name(device, cfg['threads'])}, torch {torch.__version__}\n")


def member_configs(cfg: dict) -> list[dict]:
    """The configs whose best.pt make up the exported model: cfg itself, or one per entry of
    cfg["members"] — the same recipe with that entry's overrides (e.g. seed, epochs), trained
    into <run_dir>/member-<i>."""
    if not cfg["members"]:
        return [cfg]
    fixed = {"members", "run_dir", "output", "data", "height", "width", "width_mult", "decoder_channels", "zoom",
             "colour_constancy"}
    members = []
    for i, overrides in enumerate(cfg["members"]):
        bad = sorted(set(overrides) & fixed | set(overrides) - set(DEFAULTS))
        if bad:
            raise SystemExit(f"members[{i}]: keys {bad} cannot be set per member")
        members.append({**cfg, **overrides, "members": None, "run_dir": os.path.join(cfg["run_dir"], f"member-{i}")})
    return members


def finish(cfg: dict) -> dict:
    """Select TTA on Validation, calibrate, fit the OOD gate, export ONNX + sidecar."""
    torch.set_num_threads(cfg["threads"])
    size = (cfg["height"], cfg["width"])
    cache = os.path.join(".cache", "isic")
    tr = load_split(cfg["data"], "Training", size, cfg["limit_train"], cache)
    va = load_split(cfg["data"], "Validation", size, cfg["limit_val"], cache)
    nets, members, seconds, hardware = [], [], 0.0, set()
    for m in member_configs(cfg):
        ck = torch.load(os.path.join(m["run_dir"], "best.pt"), map_location="cpu")
        net = build_model(m)
        net.load_state_dict(ck["model"])
        nets.append(net.eval())
        members.append({"runDir": m["run_dir"], "seed": m["seed"], "epochs": m["epochs"], "bestEpoch": ck["epoch"]})
        # summed epoch times from the log: counts every part of an interrupted and resumed run
        seconds += sum(entry["seconds"] for entry in log_entries(m["run_dir"]))
        hardware.add(trained_on(m["run_dir"]) or  # older runs trained on this CPU
                     f"{hardware_name(torch.device('cpu'), m['threads'])}, torch {torch.__version__}")
    model = nets[0] if len(nets) == 1 else Ensemble(nets).eval()
    ham = None
    if cfg["ham"]:  # the hold-out is scored in the sidecar; the train part is only counted
        _, hold = ham_splits(cfg, size, os.path.join(".cache", "ham"), need_train=False)
        ham = {"holdout": hold, "train_images": len(config_ids(cfg)[1]),
               # one network's hold-out figures at its best epoch (no TTA): the export reuses them
               "metrics": ck.get("ham") if len(nets) == 1 else None}
    info = {
        "ham": ham,
        "members": members,
        "train_seconds": seconds,
        "torch": torch.__version__,  # the exporting torch; hardware names the training one(s)
        "hardware": "; ".join(sorted(hardware)),
        "python": sys.version.split()[0],
    }
    return export_model(cfg, model, tr, va, evaluate, predict, info)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="JSON config (keys: see DEFAULTS in training/lesion_mtl/config.py)")
    ap.add_argument("--data")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--run-dir", dest="run_dir")
    ap.add_argument("--output")
    ap.add_argument("--pretrained", help="ImageNet MobileNetV2 .npz (torchvision names)")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--export-only", action="store_true", help="skip training; export best.pt of run_dir")
    ap.add_argument("--member", type=int, help="train only this member of an ensemble config and stop "
                                                "(members can train in parallel; then --export-only)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config, {"data": args.data, "epochs": args.epochs, "seed": args.seed,
                                    "run_dir": args.run_dir, "output": args.output,
                                    "pretrained": args.pretrained, "device": args.device})
    if args.member is not None:
        members = member_configs(cfg)
        if not 0 <= args.member < len(members):
            raise SystemExit(f"--member {args.member}: the config has {len(members)} member(s)")
        train(members[args.member])
        return
    if not args.export_only:
        for member in member_configs(cfg):
            train(member)
    sidecar = finish(cfg)
    print(json.dumps({"exported": sidecar["files"], "validation": sidecar["metrics"]["validation"]}, indent=2))
