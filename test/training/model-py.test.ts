// The model's own maths (training/lesion_mtl/model.py) against hand-computed values: the lesion
// zoom's box (lesion_box, keep_inside, box_grid) and Shades-of-Grey colour constancy. It runs in
// Python because both are computed inside the exported graph for every image the pipeline analyses.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config.js';
import { PYTHON, pythonCanImport } from '../helpers/python.js';

const run = promisify(execFile);

async function python(code: string): Promise<unknown> {
  const prelude = 'import json, torch\nfrom lesion_mtl.model import lesion_box, keep_inside, box_grid, shades_of_grey\n';
  const { stdout } = await run(PYTHON, ['-c', prelude + code], { cwd: path.join(PACKAGE_ROOT, 'training') });
  return JSON.parse(stdout);
}

const hasTorch = await pythonCanImport(['torch', 'torchvision']);
const maybe = hasTorch ? describe : describe.skip;

maybe('lesion zoom box', () => {
  // Centred blocks on a 24x32 map: columns are 1/16 apart in normalised units, rows 1/12, and a
  // run of k evenly spaced cells has σ = sqrt((k² - 1) / 12) · spacing.
  test.each([
    // 12x16 block (rows 6..17, columns 8..23): σx = 0.288104, σy = 0.287671 → 2.6 · σx = 0.749071
    { lesion: 'a 12x16 block', rows: '6:18', cols: '8:24', scale: 0.749071 },
    // 12x2 block (rows 6..17, columns 15..16): σx = 0.03125, σy = 0.287671 → 2.6 · σy = 0.747945
    { lesion: 'a tall, narrow 12x2 block', rows: '6:18', cols: '15:17', scale: 0.747945 },
  ])('$lesion: centre 0, half-extent 2.6 σ along the axis wider relative to its frame side', async ({ rows, cols, scale }) => {
    const out = (await python(`
p = torch.zeros(1, 1, 24, 32); p[0, 0, ${rows}, ${cols}] = 1
print(json.dumps([t.item() for t in lesion_box(p)]))`)) as number[];
    expect(out[0]).toBeCloseTo(0, 6);
    expect(out[1]).toBeCloseTo(0, 6);
    expect(out[2]).toBeCloseTo(scale, 4); // float32 sums
  });

  test('a one-cell lesion in a corner: the box widens towards the frame, then is kept inside it', async () => {
    // One cell at row 0, column 31 of 24x32: centre (31.5/16 - 1, 0.5/12 - 1) = (0.96875, -0.958333),
    // σ ≈ 0 → scale 0.25 (the floor). Lesion share 1/768 → confidence (1/768)/0.01 = 0.130208:
    // cx = 0.126139, cy = -0.124783, scale = 0.130208·0.25 + 0.869792 = 0.902344.
    // keep_inside: |centre| ≤ 1 - 0.902344 = 0.097656.
    const out = (await python(`
p = torch.zeros(1, 1, 24, 32); p[0, 0, 0, 31] = 1
cx, cy, s = lesion_box(p)
ix, iy = keep_inside(cx, cy, s)
print(json.dumps([cx.item(), cy.item(), s.item(), ix.item(), iy.item()]))`)) as number[];
    const expected = [0.126139, -0.124783, 0.902344, 0.097656, -0.097656];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  test('no lesion predicted: the whole frame', async () => {
    const out = await python(`print(json.dumps([t.item() for t in lesion_box(torch.zeros(2, 1, 24, 32))[2]]))`);
    expect(out).toEqual([1, 1]);
  });

  test('box_grid samples pixel centres of the box; the whole-frame box resamples the image unchanged', async () => {
    // Box centre (0.5, -0.25), scale 0.5, onto 2x4: x centres -0.75, -0.25, 0.25, 0.75 → 0.125,
    // 0.375, 0.625, 0.875; y centres -0.5, 0.5 → -0.5, 0.
    const out = (await python(`
g = box_grid(torch.tensor([0.5]), torch.tensor([-0.25]), torch.tensor([0.5]), 2, 4)
img = torch.rand(1, 3, 6, 8)
same = torch.nn.functional.grid_sample(img, box_grid(torch.zeros(1), torch.zeros(1), torch.ones(1), 6, 8),
                                       mode="bilinear", padding_mode="border", align_corners=False)
print(json.dumps([g[0, :, :, 0].tolist(), g[0, :, :, 1].tolist(), (same - img).abs().max().item()]))`)) as [
      number[][],
      number[][],
      number,
    ];
    const [gx, gy, diff] = out;
    gx.forEach((row) => row.forEach((v, i) => expect(v).toBeCloseTo([0.125, 0.375, 0.625, 0.875][i]!, 6)));
    gy.forEach((row, r) => row.forEach((v) => expect(v).toBeCloseTo([-0.5, 0][r]!, 6)));
    expect(diff).toBeLessThan(1e-5);
  });
});

maybe('Shades-of-Grey colour constancy', () => {
  test('a uniform colour cast becomes grey at the mean of the three illuminant estimates', async () => {
    // R, G, B = 200, 100, 50 everywhere: illuminant = value/255 + 0.001 = 0.785314, 0.393157,
    // 0.197078 (the p-mean of a constant is the constant); their mean 0.458516; each channel is
    // scaled by 0.458516 / its own → 116.773, 116.624, 116.328 (the 0.001 keeps them a hair apart).
    const out = (await python(`
x = torch.zeros(1, 3, 2, 2); x[:, 0] = 200; x[:, 1] = 100; x[:, 2] = 50
print(json.dumps(shades_of_grey(x)[0, :, 0, 0].tolist()))`)) as number[];
    [116.773, 116.624, 116.328].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 2));
  });

  test('the illuminant is a p = 6 mean, which bright pixels dominate', async () => {
    // R = [255, 0], G = B = [51, 51] (2 pixels): R's p-mean = (1/2)^(1/6) = 0.890899 (+0.001 =
    // 0.891899), G's = B's = 0.2 (+0.001 = 0.201); their mean 0.431300 → R gain 0.483575, G/B
    // gain 2.145769.
    const out = (await python(`
x = torch.zeros(1, 3, 1, 2); x[0, 0, 0, 0] = 255; x[:, 1:] = 51
print(json.dumps(shades_of_grey(x)[0, :, 0, :].tolist()))`)) as number[][];
    expect(out[0]![0]).toBeCloseTo(255 * 0.483575, 2);
    expect(out[0]![1]).toBe(0);
    expect(out[1]![0]).toBeCloseTo(51 * 2.145769, 2);
    expect(out[2]![1]).toBeCloseTo(51 * 2.145769, 2);
  });
});
