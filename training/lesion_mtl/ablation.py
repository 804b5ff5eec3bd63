"""Multi-task vs single-task (and the model options) from finished runs: each run directory holds
the config.json and log.jsonl that train() writes. A run's variant follows from its loss weights
and its option flags ("zoom", "colour_constancy"); runs of one variant with different seeds are
averaged, and every seed is compared with the plain multi-task run of the same seed (paired: same
initialisation and data order up to the change). No torch needed."""
from __future__ import annotations

from .run_files import log_entries, run_config, trained_on

VARIANTS = {
    "multi-task": {"seg_weight": 1.0, "cls_weight": 1.0},
    "segmentation only": {"seg_weight": 1.0, "cls_weight": 0.0},
    "classification only": {"seg_weight": 0.0, "cls_weight": 1.0},
}
METRICS = ("jaccard", "melanomaAuc", "seborrheicKeratosisAuc")
# what may differ between the runs of one ablation; everything else is the shared recipe
# (data and pretrained stay in the recipe: only their paths are logged, so they must be the same)
# model options: config flag → (its name in a variant's name, in a sentence, a note on what it does);
# a variant's name is its task variant + " + <name>" for each option on
OPTIONS = {
    "zoom": ("lesion zoom", "the lesion zoom", "The lesion zoom adds a second pass of the shared encoder over the predicted "
                            "lesion's box for the classifiers (training/README.md)."),
    "colour_constancy": ("colour constancy", "colour constancy", "Colour constancy: the network sees the image after "
                                             "Shades-of-Grey white balance (p = 6, training/README.md)."),
}
FREE_KEYS = {"seed", "seg_weight", "cls_weight", *OPTIONS, "run_dir", "output", "members", "name", "version",
             "device", "threads"}


def variant_of(cfg: dict) -> str:
    for name, weights in VARIANTS.items():
        if all((cfg[k] > 0) == (w > 0) for k, w in weights.items()):
            return " + ".join([name] + [label for key, (label, *_) in OPTIONS.items() if cfg[key]])
    raise ValueError(f"seg_weight {cfg['seg_weight']} and cls_weight {cfg['cls_weight']}: no task is trained")


def task_of(variant: str) -> str:
    return variant.split(" + ")[0]


def options_of(variant: str) -> frozenset[str]:
    parts = variant.split(" + ")[1:]
    return frozenset(key for key, (label, *_) in OPTIONS.items() if label in parts)


def uses(variant: str, metric: str) -> bool:
    """Whether a variant trains the head a metric measures (an untrained head's figure is noise)."""
    weights = VARIANTS[task_of(variant)]
    return weights["seg_weight" if metric == "jaccard" else "cls_weight"] > 0


def epoch_metrics(row: dict) -> dict:
    val = row["val"]
    return {"jaccard": val["jaccard"], "melanomaAuc": val["auc"]["melanoma"],
            "seborrheicKeratosisAuc": val["auc"]["seborrheic_keratosis"]}


def summarise_run(run_dir: str) -> dict:
    """Last epoch (no selection) and, per metric, the best epoch (selected on the same Validation
    set it reports: optimistic) of one run."""
    cfg = run_config(run_dir)
    lines = log_entries(run_dir)
    # an epoch repeated after a resume counts once (its last entry)
    by_epoch = {line["epoch"]: line for line in lines}
    if sorted(by_epoch) != list(range(cfg["epochs"])):
        raise ValueError(f"{run_dir}: {len(by_epoch)} of {cfg['epochs']} epochs logged; the run is unfinished")
    rows = [epoch_metrics(by_epoch[e]) for e in range(cfg["epochs"])]
    seconds = sum(line["seconds"] for line in lines)
    return {
        "runDir": run_dir,
        "variant": variant_of(cfg),
        "seed": cfg["seed"],
        "config": cfg,
        "hardware": trained_on(run_dir),
        "last": rows[-1],
        "best": {m: max((r[m] for r in rows if r[m] is not None), default=None) for m in METRICS},
        "seconds": seconds,
    }


def mean(values: list[float | None]) -> float | None:
    """None when any value is None (an AUC without both classes in the split)."""
    return None if any(v is None for v in values) else sum(values) / len(values)


def summarise(run_dirs: list[str]) -> dict:
    """Groups runs by variant; refuses runs whose recipes differ beyond the loss weights, the option
    flags and the seed."""
    runs = [summarise_run(d) for d in run_dirs]
    seen = set()
    for r in runs:
        if (r["variant"], r["seed"]) in seen:
            raise ValueError(f"{r['runDir']}: a second {r['variant']} run with seed {r['seed']}")
        seen.add((r["variant"], r["seed"]))
    recipe = {k: v for k, v in runs[0]["config"].items() if k not in FREE_KEYS}
    for r in runs[1:]:
        other = {k: v for k, v in r["config"].items() if k not in FREE_KEYS}
        diff = sorted(k for k in set(recipe) | set(other) if recipe.get(k) != other.get(k))
        if diff:
            raise ValueError(f"{r['runDir']} differs from {runs[0]['runDir']} in {diff}: not one ablation")
    variants = {}
    # plain variants first, in VARIANTS order, then those with options
    order = lambda n: (len(options_of(n)), list(VARIANTS).index(task_of(n)), n)  # noqa: E731
    for name in sorted({r["variant"] for r in runs}, key=order):
        mine = sorted((r for r in runs if r["variant"] == name), key=lambda r: r["seed"])
        variants[name] = {
            "seeds": [r["seed"] for r in mine],
            "last": {m: mean([r["last"][m] for r in mine]) for m in METRICS},
            "best": {m: mean([r["best"][m] for r in mine]) for m in METRICS},
            "runs": [{k: r[k] for k in ("runDir", "seed", "hardware", "last", "best", "seconds")} for r in mine],
        }
    # paired with the multi-task run of the same seed, last epoch: {metric: {seed: difference}}
    multi = {r["seed"]: r for r in runs if r["variant"] == "multi-task"}
    for name, v in variants.items():
        if name == "multi-task":
            continue
        paired = [r for r in v["runs"] if r["seed"] in multi]
        v["unpairedSeeds"] = [r["seed"] for r in v["runs"] if r["seed"] not in multi]
        v["minusMultiTask"] = {
            m: {str(r["seed"]): r["last"][m] - multi[r["seed"]]["last"][m] for r in paired
                if r["last"][m] is not None and multi[r["seed"]]["last"][m] is not None}
            for m in METRICS if uses(name, m)
        }
    return {"recipe": recipe, "hardware": sorted({r["hardware"] for r in runs if r["hardware"]}), "variants": variants}


def markdown(summary: dict, command: str) -> str:
    # rounded to 9 places first: -0.0175 is stored as -0.017499…, and shown as -0.018
    f = lambda x, sign="": "n/a" if x is None else f"{round(x, 9):{sign}.3f}"  # noqa: E731
    recipe = summary["recipe"]
    seeds = sorted({s for v in summary["variants"].values() for s in v["seeds"]})
    names = list(summary["variants"])
    tasks = {task_of(n) for n in names}
    option_sets = [options_of(n) for n in names]
    # what the report compares: what differs between its variants, not merely what is present
    differing = [key for key in OPTIONS if any(key in o for o in option_sets) and not all(key in o for o in option_sets)]
    everywhere = [key for key in OPTIONS if all(key in o for o in option_sets)]
    changed = (["the loss weights"] if len(tasks) > 1 else []) + [OPTIONS[k][1] for k in differing]
    notes = [f"Every run has {OPTIONS[k][1]} on." for k in everywhere]
    if tasks - {"multi-task"}:
        notes.append("A head whose loss is off is untrained: its column is shown as —.")
    notes.append("Figures are means over the seeds.")
    if "classification only" in tasks:
        notes.append("Classification only still pools under the mask of its untrained decoder, so it removes "
                     "both what segmentation teaches the shared encoder and the lesion-guided pooling.")
    notes += [OPTIONS[k][2] for k in OPTIONS if any(k in o for o in option_sets)]
    lines = [
        f"# Ablation: {' vs '.join(names)} (Validation, {recipe['limit_val'] or 150} images)",
        "",
        f"Generated by `{command}`. Trained on {'; '.join(summary['hardware']) or 'unknown hardware'}. "
        f"Same network and recipe, {recipe['epochs']} epochs at {recipe['height']}x{recipe['width']}, "
        f"seed(s) {', '.join(map(str, seeds))}; only {' and '.join(changed) or 'the seed'} "
        f"{'differ' if len(changed) > 1 or changed[:1] == ['the loss weights'] else 'differs'}. "
        + " ".join(notes),
        "",
        "| Variant | seeds | Jaccard (last) | melanoma AUC (last) | SK AUC (last) | Jaccard (best) | "
        "melanoma AUC (best) | SK AUC (best) |",
        "| :-- | :-- | --: | --: | --: | --: | --: | --: |",
    ]
    for name, v in summary["variants"].items():
        cells = [f(v[col][m]) if uses(name, m) else "—" for col in ("last", "best") for m in METRICS]
        lines.append(f"| {name} | {', '.join(map(str, v['seeds']))} | " + " | ".join(cells) + " |")
    paired = [(name, v) for name, v in summary["variants"].items() if "minusMultiTask" in v]
    if any(any(v["minusMultiTask"].values()) for _, v in paired):
        lines += ["", "Each variant minus multi-task, last epoch, per seed (same seed, same data order):", ""]
        for name, v in paired:
            parts = [f"{m} " + ", ".join(f"{f(d, '+')} (seed {seed})" for seed, d in ds.items())
                     for m, ds in v["minusMultiTask"].items() if ds]
            unpaired = f" (no multi-task run for seed {', '.join(map(str, v['unpairedSeeds']))})" if v["unpairedSeeds"] else ""
            lines.append(f"- {name}: {'; '.join(parts) or 'nothing to pair'}{unpaired}")
    lines += ["", "Per run:", "", "| Variant | seed | Jaccard (last) | melanoma AUC (last) | SK AUC (last) | train s |",
              "| :-- | --: | --: | --: | --: | --: |"]
    for name, v in summary["variants"].items():
        for r in v["runs"]:
            cells = [f(r["last"][m]) if uses(name, m) else "—" for m in METRICS]
            lines.append(f"| {name} | {r['seed']} | " + " | ".join(cells) + f" | {r['seconds']:.0f} |")
    lines += ["", "On 150 images (30 melanoma, 42 SK) differences of about 0.02 AUC are noise; 'best' "
              "columns select on the same Validation set they report and are optimistic. 'train s' sums "
              "the logged epoch times: runs that shared a device with different sets of other processes "
              "are not comparable on it.", ""]
    return "\n".join(lines)
