// Model 2.0's training additions (training/lesion_mtl) against hand-computed values: the HAM10000
// loader and its lesion-grouped hold-out (ham.py), the per-source epoch sampling (train.py), the
// distillation loss (losses.py), and the rebuild of PyTorch members from an exported ONNX file
// (onnx_weights.py), checked against the shipped model's parity fixtures.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config.js';
import { PYTHON, pythonCanImport } from '../helpers/python.js';

const run = promisify(execFile);

async function python(code: string, timeout = 60_000): Promise<unknown> {
  const { stdout } = await run(PYTHON, ['-c', 'import json\n' + code], {
    cwd: path.join(PACKAGE_ROOT, 'training'),
    timeout,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

const hasTorch = await pythonCanImport(['torch', 'torchvision', 'onnx', 'PIL']);
const maybe = hasTorch ? describe : describe.skip;
if (!hasTorch) console.warn(`model 2.0 training tests skipped: ${PYTHON} cannot import torch/torchvision/onnx/PIL`);

// A synthetic HAM10000 folder: 60 lesions, 1-3 images each (image ids ISIC_<n>), every fifth
// lesion a melanoma, every seventh bkl; two images listed as near-duplicates, one against
// Validation and one against Training.
const MAKE_HAM = `
import os, csv
import numpy as np
from PIL import Image
def make_ham(root):
    os.makedirs(os.path.join(root, "images")); os.makedirs(os.path.join(root, "masks"))
    rows, n = [], 0
    for les in range(60):
        dx = "mel" if les % 5 == 0 else "bkl" if les % 7 == 0 else "nv"
        for _ in range(1 + les % 3):
            iid = f"ISIC_{n:07d}"; n += 1
            rows.append([f"HAM_{les:07d}", iid, dx, "histo", "50.0", "male", "back"])
            Image.fromarray(np.full((150, 200, 3), 100 + les, np.uint8)).save(os.path.join(root, "images", iid + ".jpg"))
            m = np.zeros((150, 200), np.uint8); m[50:100, 60:140] = 255
            Image.fromarray(m).save(os.path.join(root, "masks", iid + "_segmentation.png"))
    with open(os.path.join(root, "HAM10000_metadata.csv"), "w", newline="") as f:
        w = csv.writer(f); w.writerow(["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"]); w.writerows(rows)
    with open(os.path.join(root, "near_duplicates.csv"), "w", newline="") as f:
        f.write("ham_image_id,isic2017_split,isic2017_image_id,r\\nISIC_0000003,Validation,ISIC_0000001,0.96\\nISIC_0000004,Training,ISIC_0000002,0.97\\n")
    return rows
`;

maybe('HAM10000 loader and lesion-grouped hold-out (ham.py)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-ham-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('no lesion on both sides, deterministic and order-independent, near-duplicates of Validation/Test_v2 on neither side', async () => {
    const out = (await python(`
${MAKE_HAM}
from lesion_mtl.ham import read_metadata, split_ids, near_duplicates, in_holdout
rows = make_ham(${JSON.stringify(path.join(dir, 'ham'))})
recs = read_metadata(${JSON.stringify(path.join(dir, 'ham'))})
excl = near_duplicates(${JSON.stringify(path.join(dir, 'ham'))})
tr, ho = split_ids(recs, 0.3, excl)
tr2, ho2 = split_ids(list(reversed(recs)), 0.3, excl)
lesion = {r.image_id: r.lesion_id for r in recs}
both = set(lesion[i] for i in tr) & set(lesion[i] for i in ho)
print(json.dumps({"n": len(recs), "train": len(tr), "hold": len(ho), "both": len(both), "same": tr == tr2 and ho == ho2,
                  "excluded": sorted(excl), "in_any": sorted(excl & (set(tr) | set(ho))),
                  "held_lesions": len(set(lesion[i] for i in ho)),
                  "sha": [in_holdout("HAM_0000118", 0.15), in_holdout("HAM_0000118", 1.0), in_holdout("HAM_0000118", 0.0)]}))`)) as Record<string, unknown>;
    // 60 lesions with 1, 2, 3, 1, 2, 3, ... images: 20 x 6 = 120 images
    expect(out.n).toBe(120);
    expect(out.both).toBe(0);
    expect(out.same).toBe(true);
    expect(out.excluded).toEqual(['ISIC_0000003']); // the Training near-duplicate may be trained on
    expect(out.in_any).toEqual([]);
    expect((out.train as number) + (out.hold as number)).toBe(119);
    // a 30 % hash split of 60 lesions: between 8 and 28 held out (binomial, > 4 sigma)
    expect(out.held_lesions as number).toBeGreaterThanOrEqual(8);
    expect(out.held_lesions as number).toBeLessThanOrEqual(28);
    expect((out.sha as boolean[]).slice(1)).toEqual([true, false]);
  });

  test('load_ham resizes to the contract size; melanoma labels train, SK (bkl) is masked and kept as a weak label', async () => {
    const out = (await python(`
from lesion_mtl.ham import read_metadata, load_ham
root = ${JSON.stringify(path.join(dir, 'ham'))}
recs = read_metadata(root)
ids = ["ISIC_0000000", "ISIC_0000009", "ISIC_0000013"]  # lesions 0 (mel), 5 (mel), 7 (bkl)
split, mask = load_ham(root, ids, recs, (192, 256))
print(json.dumps({"img": list(split.images.shape), "msk": list(split.masks.shape), "labels": split.labels.tolist(),
                  "label_mask": mask.tolist(), "mask_share": float(split.masks.mean()), "pixel": int(split.images[0, 10, 10, 0])}))`)) as Record<string, unknown>;
    expect(out.img).toEqual([3, 192, 256, 3]);
    expect(out.msk).toEqual([3, 192, 256]);
    expect(out.labels).toEqual([
      [1, 0],
      [1, 0],
      [0, 1],
    ]);
    expect(out.label_mask).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
    ]);
    // a 80x50 box of 200x150 = 13.3 % of the frame, nearest-resized
    expect(out.mask_share as number).toBeCloseTo(0.1333, 2);
    expect(Math.abs((out.pixel as number) - 100)).toBeLessThanOrEqual(2); // JPEG of a flat 100
  });

  test('write_holdout_folder writes images, masks and labels.csv for lesion eval', async () => {
    const out = (await python(`
import os, csv
from lesion_mtl.config import load_config
from lesion_mtl.ham import write_holdout_folder
cfg = load_config(None, {"ham": ${JSON.stringify(path.join(dir, 'ham'))}, "ham_holdout": 0.3})
n = write_holdout_folder(cfg, ${JSON.stringify(path.join(dir, 'hold'))})
rows = list(csv.DictReader(open(${JSON.stringify(path.join(dir, 'hold', 'labels.csv'))})))
files = sorted(f for f in os.listdir(${JSON.stringify(path.join(dir, 'hold'))}) if f.endswith(".jpg"))
masks = sorted(os.listdir(${JSON.stringify(path.join(dir, 'hold', 'masks'))}))
print(json.dumps({"n": n, "rows": len(rows), "files": len(files), "masks": len(masks),
                  "ok": [r["image_id"] + ".jpg" for r in rows] == files, "cols": list(rows[0].keys())}))`)) as Record<string, unknown>;
    expect(out.n).toBe(out.rows);
    expect(out.files).toBe(out.n);
    expect(out.masks).toBe(out.n);
    expect(out.ok).toBe(true);
    expect(out.cols).toEqual(['image_id', 'melanoma', 'seborrheic_keratosis']);
  });
});

maybe('per-source epoch sampling (train.epoch_indices)', () => {
  test('all ISIC once + the HAM sample at the requested melanoma share, shuffled; ISIC only keeps the old stream', async () => {
    const out = (await python(`
import numpy as np, torch
from lesion_mtl.config import DEFAULTS
from lesion_mtl.train import epoch_indices
ham = np.zeros((500, 2), np.float32); ham[:50, 0] = 1  # 10 % melanoma
cfg = {**DEFAULTS, "ham_per_epoch": 200, "ham_mel_share": 0.25}
idx = epoch_indices(cfg, 100, ham, torch.Generator().manual_seed(3))
isic = idx[idx < 100]; h = idx[idx >= 100] - 100
cfg2 = {**DEFAULTS, "isic_per_epoch": 250}
rep = epoch_indices(cfg2, 100, None, torch.Generator().manual_seed(3))
old = epoch_indices(DEFAULTS, 100, None, torch.Generator().manual_seed(3))
print(json.dumps({"n": len(idx), "isic_unique": len(set(isic.tolist())), "ham": len(h), "ham_unique": len(set(h.tolist())),
                  "mel": int((h < 50).sum()), "shuffled": bool((idx[:100] >= 100).any()),
                  "rep": len(rep), "rep_max_count": int(np.bincount(rep.numpy()).max()),
                  "old": old.tolist() == torch.randperm(100, generator=torch.Generator().manual_seed(3)).tolist()}))`)) as Record<string, unknown>;
    expect(out).toEqual({ n: 300, isic_unique: 100, ham: 200, ham_unique: 200, mel: 50, shuffled: true, rep: 250, rep_max_count: 3, old: true });
  });
});

maybe('distillation loss (losses.py)', () => {
  test('hand-computed: hard and soft terms, SK hard label masked, temperature scaling', async () => {
    // Zero logits everywhere: p = 0.5.
    // mask 2x2 with ground truth [[1,0],[0,0]]: BCE = ln 2 = 0.693147; Dice: inter 0.5, sums 2 + 1,
    //   1 - (2·0.5 + 1)/(3 + 1) = 0.5 → hard 1.193147; soft vs the teacher's 0.5: ln 2.
    //   seg = 0.5·1.193147 + 0.5·0.693147 = 0.943147.
    // heads: labels [1, 0], hard mask [1, 0] (SK unknown), pos_weight [3, 1]: only the melanoma
    //   entry counts, 3·ln 2 = 2.079442; soft ln 2 on both → cls = 0.5·2.079442 + 0.5·0.693147 = 1.386294.
    // soft_bce at T = 2 of logit 2 vs teacher 0: BCE(σ(1), 0.5)·4 = 0.5·(softplus(1) + softplus(-1))·4
    //   = 0.5·(1.313262 + 0.313262)·4 = 3.253048.
    const out = (await python(`
import torch
from lesion_mtl.losses import distillation_loss, soft_bce, masked_balanced_bce
z = torch.zeros(1, 1, 2, 2)
gt = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
seg, cls = distillation_loss(z, torch.zeros(1, 2), gt, torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]),
                             torch.tensor([3.0, 1.0]), torch.zeros(1, 1, 2, 2), torch.zeros(1, 2), 0.5, 1.0)
none = masked_balanced_bce(torch.zeros(1, 2), torch.ones(1, 2), torch.ones(2), torch.zeros(1, 2))
print(json.dumps([seg.item(), cls.item(), soft_bce(torch.tensor([2.0]), torch.tensor([0.0]), 2.0).item(), none.item()]))`)) as number[];
    const expected = [0.943147, 1.386294, 3.253048, 0];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });
});

maybe('PyTorch members rebuilt from an exported ONNX file (onnx_weights.py)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lesion-onnx-weights-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a random two-member ensemble exported and rebuilt gives the same outputs', async () => {
    const out = (await python(
      `
import torch
from lesion_mtl.model import LesionMTL, Ensemble, ServingModel
from lesion_mtl.export import onnx_export
from lesion_mtl.onnx_weights import load_members, member_count
torch.manual_seed(0)
build = lambda: LesionMTL(decoder_channels=(16, 16, 8, 8), width_mult=0.35)
members = [build(), build()]
for m in members:  # non-trivial batch norms, so the folding is exercised
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.2, 0.2)
ens = Ensemble(members).eval()
path = ${JSON.stringify(path.join(dir, 'ens.onnx'))}
x = (torch.rand(2, 64, 96, 3) * 255).to(torch.uint8)
onnx_export(ServingModel(ens, None, "none").eval(), x[:1], path)
rebuilt = load_members(path, build)
with torch.no_grad():
    ref = [m(x.permute(0, 3, 1, 2).float()) for m in members]
    got = [m(x.permute(0, 3, 1, 2).float()) for m in rebuilt]
print(json.dumps({"members": member_count(path), "n": len(rebuilt),
                  "score": max((r[1] - g[1]).abs().max().item() for r, g in zip(ref, got)),
                  "mask": max((r[0] - g[0]).abs().max().item() for r, g in zip(ref, got))}))`,
      120_000,
    )) as Record<string, number>;
    expect(out.members).toBe(2);
    expect(out.n).toBe(2);
    expect(out.score).toBeLessThan(1e-4);
    expect(out.mask).toBeLessThan(1e-3);
  });

  test('the shipped models/lesion-mtl.onnx rebuilt in PyTorch reproduces models/parity', async () => {
    const out = (await python(
      `
import json as _j, os, numpy as np, torch
from PIL import Image
from lesion_mtl.model import LesionMTL, Ensemble, tta_forward
from lesion_mtl.onnx_weights import load_members
side = _j.load(open("../models/lesion-mtl.json"))
cfg = side["training"]["config"]
build = lambda: LesionMTL(decoder_channels=tuple(cfg["decoder_channels"]), width_mult=cfg["width_mult"],
                          zoom=cfg.get("zoom", False), colour_constancy=cfg.get("colour_constancy", False))
ms = load_members("../models/lesion-mtl.onnx", build)
net = (ms[0] if len(ms) == 1 else Ensemble(ms)).eval()
par = _j.load(open("../models/parity/parity.json"))
x = np.stack([np.asarray(Image.open(os.path.join("../models/parity", c["image"])).convert("RGB")) for c in par["cases"]])
with torch.no_grad():
    m, s, _ = tta_forward(net, torch.from_numpy(x).permute(0, 3, 1, 2).float(), side["testTimeAugmentation"])
agree = min(float(((m[i, 0] > 0).numpy() == (np.asarray(Image.open(os.path.join("../models/parity", c["mask"]))) > 0)).mean())
            for i, c in enumerate(par["cases"]))
print(json.dumps({"score": float(np.abs(s.numpy() - np.array([c["scores"] for c in par["cases"]])).max()), "agree": agree}))`,
      180_000,
    )) as Record<string, number>;
    expect(out.score).toBeLessThan(1e-3);
    expect(out.agree).toBeGreaterThan(0.999);
  }, 200_000);
});
