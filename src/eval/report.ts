/**
 * Reports of an evaluation: a terminal table, ROC curves as PNG, a contact sheet of the
 * lowest-Jaccard images, and `metrics.json`. PNGs are drawn as SVG and rasterised, and tiles
 * composed, by src/image/render.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { outline, resizeNearest } from '../processing/mask.js';
import { composePng, readRgbStretched, svgToPng, type RgbTile } from '../image/render.js';
import { rocAuc, rocCurve } from '../metrics/index.js';
import type { RocPoint } from '../metrics/index.js';
import type { ClassKey, EvaluationMetrics, EvaluationResult, PerImageResult, WorstCase } from './evaluate.js';

/** Files written by {@link writeReports}, as absolute or `outDir`-relative paths as given. */
export interface WrittenReports {
  readonly metricsJson: string;
  readonly rocPng: string;
  /** `null` when no image had a ground-truth mask (nothing to show). */
  readonly worstCasesPng: string | null;
}

/** Options of {@link renderWorstCasesPng}. */
export interface ContactSheetOptions {
  /**
   * Tiles per row.
   * @default 4
   */
  readonly columns?: number;
  /**
   * Box each image is fitted into (aspect ratio kept), in pixels.
   * @default { width: 256, height: 192 }
   */
  readonly tileSize?: { readonly width: number; readonly height: number };
}

const COLOURS = {
  melanoma: '#d62728',
  seborrheicKeratosis: '#1f77b4',
  /** Ground-truth outline on tiles. */
  truth: [0, 230, 0] as const,
  /** Predicted outline on tiles. */
  prediction: [255, 0, 255] as const,
} as const;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

const CLASSES: readonly { key: ClassKey; metricsKey: 'melanoma' | 'seborrheicKeratosis'; label: string }[] = [
  { key: 'melanoma', metricsKey: 'melanoma', label: 'Melanoma' },
  { key: 'seborrheic_keratosis', metricsKey: 'seborrheicKeratosis', label: 'Seborrheic keratosis' },
];

/**
 * A plain-text table of the metrics for the terminal. `n/a` marks a metric that is undefined for
 * this dataset (no masks, or a class without positives or negatives).
 *
 * @example
 * console.log(formatMetricsTable(result.metrics, 'ISIC 2017 Validation'));
 */
export function formatMetricsTable(metrics: EvaluationMetrics, title?: string): string {
  const seg = metrics.segmentation;
  const mel = metrics.classification.melanoma;
  const sk = metrics.classification.seborrheicKeratosis;
  const rows: [string, string, string][] = [
    ['ROC AUC', fmt(mel.auc), fmt(sk.auc)],
    ['Average precision', fmt(mel.averagePrecision), fmt(sk.averagePrecision)],
    ['Accuracy', fmt(mel.accuracy), fmt(sk.accuracy)],
    ['Sensitivity', fmt(mel.sensitivity), fmt(sk.sensitivity)],
    ['Specificity', fmt(mel.specificity), fmt(sk.specificity)],
    ...(['0.82', '0.89', '0.95'] as const).map((s): [string, string, string] => [
      `Specificity @ ${Math.round(Number(s) * 100)}% sens.`,
      fmt(mel.specificityAt[s]),
      fmt(sk.specificityAt[s]),
    ]),
  ];
  const labelWidth = 26;
  const columnWidth = 22;
  const line = (label: string, ...cells: string[]): string =>
    `  ${label.padEnd(labelWidth)}${cells.map((c) => c.padStart(columnWidth)).join('')}`.trimEnd();
  return [
    `${title ?? 'Evaluation'}: ${metrics.n} images`,
    '',
    'Segmentation (mean over images with a ground-truth mask)',
    line('Jaccard', fmt(seg.jaccard)),
    line('Thresholded Jaccard (0.65)', fmt(seg.thresholdedJaccard)),
    line('Dice', fmt(seg.dice)),
    line('Pixel accuracy', fmt(seg.accuracy)),
    line('Sensitivity', fmt(seg.sensitivity)),
    line('Specificity', fmt(seg.specificity)),
    '',
    'Classification (accuracy, sensitivity, specificity at the decision threshold t: probability >= t)',
    line('', 'melanoma', 'seborrheic keratosis'),
    line(
      'Decision threshold t',
      formatThreshold(metrics.classification.decisionThresholds.melanoma),
      formatThreshold(metrics.classification.decisionThresholds.seborrheicKeratosis),
    ),
    ...rows.map(([label, a, b]) => line(label, a, b)),
    line('Mean ROC AUC', fmt(metrics.classification.meanAuc)),
    '',
  ].join('\n');
}

/** A threshold for the table: at most 4 decimals, trailing zeros dropped (0.5, 0.2346). */
export function formatThreshold(t: number): string {
  return String(Math.round(t * 1e4) / 1e4);
}

/** One class's ROC curve and AUC from per-image results; both `null` without both classes. */
export interface ClassRoc {
  readonly label: string;
  readonly colour: string;
  readonly auc: number | null;
  readonly points: readonly RocPoint[] | null;
}

/**
 * The ROC curves of both classes from the labelled images of `perImage`.
 *
 * @example
 * const [melanoma, keratosis] = rocCurves(result.perImage);
 */
export function rocCurves(perImage: readonly PerImageResult[]): ClassRoc[] {
  const labelled = perImage.filter((p) => p.labels !== null);
  return CLASSES.map(({ key, metricsKey, label }) => {
    const scores = labelled.map((p) => p.probabilities[key]);
    const labels = labelled.map((p) => p.labels?.[key] ?? 0);
    return {
      label,
      colour: COLOURS[metricsKey],
      auc: rocAuc(scores, labels),
      points: rocCurve(scores, labels),
    };
  });
}

/**
 * An SVG ROC plot: both classes, the chance diagonal, labelled axes and AUCs in the legend.
 *
 * @example
 * await writeFile('roc.svg', renderRocSvg(rocCurves(result.perImage)));
 */
export function renderRocSvg(curves: readonly ClassRoc[]): string {
  const size = 480;
  const left = 72;
  const top = 48;
  const width = left + size + 24;
  const height = top + size + 64;
  const x = (fpr: number): number => left + fpr * size;
  const y = (tpr: number): number => top + (1 - tpr) * size;
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];

  const grid = ticks
    .map(
      (t) =>
        `<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(1)}" stroke="#e5e5e5"/>` +
        `<line x1="${x(0)}" y1="${y(t)}" x2="${x(1)}" y2="${y(t)}" stroke="#e5e5e5"/>` +
        `<text x="${x(t)}" y="${y(0) + 20}" text-anchor="middle">${t.toFixed(1)}</text>` +
        `<text x="${x(0) - 8}" y="${y(t) + 5}" text-anchor="end">${t.toFixed(1)}</text>`,
    )
    .join('');
  const lines = curves
    .filter((c) => c.points !== null)
    .map((c) => {
      const coordinates = (c.points ?? [])
        .map((p) => `${x(p.falsePositiveRate).toFixed(2)},${y(p.truePositiveRate).toFixed(2)}`)
        .join(' ');
      return `<polyline points="${coordinates}" fill="none" stroke="${c.colour}" stroke-width="2.5" stroke-linejoin="round"/>`;
    })
    .join('');
  const legendEntries = [
    ...curves.map((c) => ({
      colour: c.colour,
      dashed: false,
      text: `${c.label}: AUC ${c.auc === null ? 'n/a (needs positives and negatives)' : c.auc.toFixed(3)}`,
    })),
    { colour: '#888888', dashed: true, text: 'Chance: AUC 0.500' },
  ];
  const legendTop = y(0) - 16 - 22 * legendEntries.length;
  const legend =
    `<rect x="${x(0.3)}" y="${legendTop - 8}" width="${x(1) - x(0.3) - 8}" height="${22 * legendEntries.length + 10}" fill="white" fill-opacity="0.9" stroke="#cccccc"/>` +
    legendEntries
      .map((e, i) => {
        const ly = legendTop + 22 * i + 8;
        return (
          `<line x1="${x(0.3) + 10}" y1="${ly}" x2="${x(0.3) + 40}" y2="${ly}" stroke="${e.colour}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
          `<text x="${x(0.3) + 48}" y="${ly + 5}">${escapeXml(e.text)}</text>`
        );
      })
      .join('');

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="13" fill="#222222">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left + size / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">ROC curves (ISIC 2017 Part 3, one class vs rest)</text>`,
    grid,
    `<rect x="${x(0)}" y="${y(1)}" width="${size}" height="${size}" fill="none" stroke="#444444"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#888888" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    lines,
    legend,
    `<text x="${left + size / 2}" y="${height - 18}" text-anchor="middle" font-size="14">False positive rate (1 − specificity)</text>`,
    `<text transform="translate(22 ${top + size / 2}) rotate(-90)" text-anchor="middle" font-size="14">True positive rate (sensitivity)</text>`,
    '</svg>',
  ].join('\n');
}

/**
 * The ROC plot of both classes as a PNG.
 *
 * @example
 * await writeFile('roc.png', await renderRocPng(result.perImage));
 */
export async function renderRocPng(perImage: readonly PerImageResult[]): Promise<Buffer> {
  return svgToPng(renderRocSvg(rocCurves(perImage)));
}

/**
 * A contact sheet of the given worst cases (lowest Jaccard first): each tile is the image with the
 * ground-truth outline in green and the predicted outline in magenta, captioned with id and Jaccard.
 * `null` when there are no cases. An unreadable image is drawn as a grey tile.
 *
 * @example
 * const png = await renderWorstCasesPng(result.worstCases);
 * if (png) await writeFile('worst-cases.png', png);
 */
export async function renderWorstCasesPng(
  worstCases: readonly WorstCase[],
  options: ContactSheetOptions = {},
): Promise<Buffer | null> {
  if (worstCases.length === 0) return null;
  const tile = options.tileSize ?? { width: 256, height: 192 };
  const columns = Math.max(1, Math.min(options.columns ?? 4, worstCases.length));
  const rows = Math.ceil(worstCases.length / columns);
  const gap = 8;
  const header = 34;
  const caption = 22;
  const width = gap + columns * (tile.width + gap);
  const height = header + gap + rows * (tile.height + caption + gap);

  const tiles = await Promise.all(worstCases.map((c) => renderTile(c, tile)));
  const placed: RgbTile[] = tiles.map((t, i) => ({
    pixels: t.pixels,
    width: tile.width,
    height: tile.height,
    left: gap + (i % columns) * (tile.width + gap),
    top: header + gap + Math.floor(i / columns) * (tile.height + caption + gap),
  }));
  const captions = worstCases
    .map((c, i) => {
      const left = gap + (i % columns) * (tile.width + gap);
      const top = header + gap + Math.floor(i / columns) * (tile.height + caption + gap) + tile.height;
      const note = tiles[i]?.imageReadable === false ? ' (image unreadable)' : '';
      return `<text x="${left + 2}" y="${top + 16}">${escapeXml(`${c.id}  J = ${c.jaccard.toFixed(3)}${note}`)}</text>`;
    })
    .join('');
  const rgb = (c: readonly number[]): string => `rgb(${c.join(',')})`;
  const overlay = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}" font-size="13" fill="#222222">`,
    `<text x="${gap}" y="22" font-size="15" font-weight="bold">Lowest Jaccard: ${worstCases.length} images</text>`,
    `<rect x="${width - 290}" y="10" width="14" height="14" fill="${rgb(COLOURS.truth)}"/>`,
    `<text x="${width - 270}" y="22">ground truth</text>`,
    `<rect x="${width - 170}" y="10" width="14" height="14" fill="${rgb(COLOURS.prediction)}"/>`,
    `<text x="${width - 150}" y="22">prediction</text>`,
    captions,
    '</svg>',
  ].join('');
  return composePng(width, height, placed, overlay);
}

/**
 * Write `metrics.json` (exactly {@link EvaluationMetrics}), `roc.png` and, when any image had a
 * ground-truth mask, `worst-cases.png` into `outDir` (created if needed).
 *
 * @example
 * const written = await writeReports(result, 'out/eval-validation');
 * console.log(`wrote ${written.rocPng}`);
 */
export async function writeReports(result: EvaluationResult, outDir: string): Promise<WrittenReports> {
  await mkdir(outDir, { recursive: true });
  const metricsJson = path.join(outDir, 'metrics.json');
  const rocPng = path.join(outDir, 'roc.png');
  const worstCasesFile = path.join(outDir, 'worst-cases.png');
  await writeFile(metricsJson, `${JSON.stringify(result.metrics, null, 2)}\n`);
  await writeFile(rocPng, await renderRocPng(result.perImage));
  const sheet = await renderWorstCasesPng(result.worstCases);
  if (sheet !== null) await writeFile(worstCasesFile, sheet);
  return { metricsJson, rocPng, worstCasesPng: sheet === null ? null : worstCasesFile };
}

interface Tile {
  /** RGB, exactly the tile box, the image letterboxed in it. */
  readonly pixels: Buffer;
  readonly imageReadable: boolean;
}

async function renderTile(c: WorstCase, box: { width: number; height: number }): Promise<Tile> {
  const scale = Math.min(box.width / c.width, box.height / c.height);
  const w = Math.max(1, Math.min(box.width, Math.round(c.width * scale)));
  const h = Math.max(1, Math.min(box.height, Math.round(c.height * scale)));
  const offsetX = Math.floor((box.width - w) / 2);
  const offsetY = Math.floor((box.height - h) / 2);

  // The image is stretched onto the mask's frame: ground truth and image cover the same field of view.
  const image = await readRgbStretched(c.imagePath, w, h);

  const pixels = Buffer.alloc(box.width * box.height * 3, 64);
  const outlineAt = (mask: Uint8Array) =>
    outline(resizeNearest({ data: mask, width: c.width, height: c.height }, w, h), 2).data;
  const truth = outlineAt(c.truthMask);
  const predicted = outlineAt(c.predictedMask);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const source = y * w + x;
      const target = ((y + offsetY) * box.width + x + offsetX) * 3;
      const colour =
        predicted[source] === 1
          ? COLOURS.prediction
          : truth[source] === 1
            ? COLOURS.truth
            : image === null
              ? ([128, 128, 128] as const)
              : ([image[source * 3], image[source * 3 + 1], image[source * 3 + 2]] as const);
      pixels[target] = colour[0] ?? 0;
      pixels[target + 1] = colour[1] ?? 0;
      pixels[target + 2] = colour[2] ?? 0;
    }
  }
  return { pixels, imageReadable: image !== null };
}

function fmt(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(4);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
