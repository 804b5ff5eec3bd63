/**
 * Finding an evaluation set on disk: images, optional ground-truth masks and an optional
 * ISIC 2017 Part 3 label CSV, either in the official layout (`--data <root> --split <Split>`) or
 * as explicit folders and file (`--images --masks --labels`). Reads directory listings and the CSV;
 * no pixels are decoded here.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, LesionError } from '../errors.js';
import type { BinaryLabel } from '../metrics/index.js';

/**
 * The evaluation data is missing or malformed (a folder, the CSV, a row): permanent.
 * `details` names what was expected where.
 *
 * @example
 * try { await loadIsic2017Split(root, 'Validation') } catch (e) { if (e instanceof DatasetError) console.error(e.message) }
 */
export class DatasetError extends LesionError {
  readonly code = ErrorCode.CONFIG_INVALID;
  readonly retryable = false;
}

/** The three ISIC 2017 splits, spelled as in the official folder names. */
export const ISIC2017_SPLITS = ['Training', 'Validation', 'Test_v2'] as const;
export type Isic2017Split = (typeof ISIC2017_SPLITS)[number];

/** Ground truth of the two ISIC 2017 Part 3 columns, keyed as in the CSV header. */
export interface ClassLabels {
  readonly melanoma: BinaryLabel;
  readonly seborrheic_keratosis: BinaryLabel;
}

/** One image to evaluate. */
export interface EvalSample {
  /** The file name without its extension, e.g. `ISIC_0001769`. */
  readonly id: string;
  readonly imagePath: string;
  /** `<id>_segmentation.png`, or `null` when this image has no ground-truth mask. */
  readonly maskPath: string | null;
  /** `null` when the dataset has no label CSV. */
  readonly labels: ClassLabels | null;
}

/** An evaluation set: samples sorted by id. */
export interface EvalDataset {
  /** A human-readable origin, e.g. `ISIC 2017 Validation (/data/isic2017)`. */
  readonly name: string;
  readonly samples: readonly EvalSample[];
}

/** Where a dataset's parts live. */
export interface DatasetPaths {
  /** Folder of images (`.jpg`, `.jpeg` or `.png`). */
  readonly images: string;
  /** Folder of `<id>_segmentation.png` masks; omit for classification only. */
  readonly masks?: string;
  /** CSV `image_id,melanoma,seborrheic_keratosis`; omit for segmentation only. */
  readonly labels?: string;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);
/** Files that sit beside images in ISIC folders but are not images to evaluate. */
const NON_IMAGE_SUFFIXES = ['_superpixels', '_segmentation'];
const MASK_SUFFIX = '_segmentation.png';
const LABEL_COLUMNS = ['image_id', 'melanoma', 'seborrheic_keratosis'] as const;
/** How many offending names an error message lists before it says "and N more". */
const LISTED_NAMES = 10;

/**
 * Accept a split name case-insensitively and return its official spelling.
 *
 * @throws DatasetError listing the valid names.
 * @example
 * parseIsic2017Split('validation'); // 'Validation'
 */
export function parseIsic2017Split(name: string): Isic2017Split {
  const split = ISIC2017_SPLITS.find((s) => s.toLowerCase() === name.toLowerCase());
  if (split === undefined) {
    throw new DatasetError(
      `unknown ISIC 2017 split "${name}"; expected one of ${ISIC2017_SPLITS.join(', ')}`,
      {
        details: { split: name, expected: [...ISIC2017_SPLITS] },
      },
    );
  }
  return split;
}

/**
 * The official ISIC 2017 paths of one split under `root`.
 *
 * @example
 * isic2017SplitPaths('/data/isic2017', 'Validation').labels;
 * // '/data/isic2017/ISIC-2017_Validation_Part3_GroundTruth.csv'
 */
export function isic2017SplitPaths(root: string, split: Isic2017Split): Required<DatasetPaths> {
  return {
    images: path.join(root, `ISIC-2017_${split}_Data`),
    masks: path.join(root, `ISIC-2017_${split}_Part1_GroundTruth`),
    labels: path.join(root, `ISIC-2017_${split}_Part3_GroundTruth.csv`),
  };
}

/**
 * Load one split of an ISIC 2017 folder. All three parts must exist (the image folder, the Part 1
 * mask folder and the Part 3 CSV); an image without its own mask file gets `maskPath: null`.
 *
 * @throws DatasetError naming every missing part and the paths where they were expected.
 * @example
 * const validation = await loadIsic2017Split('../shared/data/isic2017', 'Validation');
 * validation.samples.length; // 150
 */
export async function loadIsic2017Split(root: string, split: Isic2017Split | string): Promise<EvalDataset> {
  const officialSplit = parseIsic2017Split(split);
  const paths = isic2017SplitPaths(root, officialSplit);
  const missing = await missingPaths([
    { path: paths.images, kind: 'directory', what: 'images' },
    { path: paths.masks, kind: 'directory', what: 'Part 1 ground-truth masks' },
    { path: paths.labels, kind: 'file', what: 'Part 3 ground-truth CSV' },
  ]);
  if (missing.length > 0) {
    throw new DatasetError(
      `${root} is not an ISIC 2017 folder for split ${officialSplit}; missing:\n${missing.map((m) => `  ${m}`).join('\n')}`,
      { details: { root, split: officialSplit, missing } },
    );
  }
  return loadDataset(paths, `ISIC 2017 ${officialSplit} (${root})`);
}

/**
 * Load a dataset from explicit paths. Images are every `.jpg`/`.jpeg`/`.png` in `images` except
 * `*_superpixels` and `*_segmentation` files; masks are looked up as `<masks>/<id>_segmentation.png`
 * (an image without one gets `maskPath: null`); when `labels` is given, every image must have a
 * row (rows for other images are ignored).
 *
 * @throws DatasetError for a missing folder or CSV, an empty image folder, a malformed CSV, or
 *   images without a CSV row (listed).
 * @example
 * const ds = await loadDataset({ images: 'imgs', masks: 'masks', labels: 'labels.csv' });
 * ds.samples[0]; // { id, imagePath, maskPath, labels }
 */
export async function loadDataset(paths: DatasetPaths, name?: string): Promise<EvalDataset> {
  const missing = await missingPaths([
    { path: paths.images, kind: 'directory', what: 'images' },
    ...(paths.masks === undefined ? [] : [{ path: paths.masks, kind: 'directory' as const, what: 'masks' }]),
    ...(paths.labels === undefined ? [] : [{ path: paths.labels, kind: 'file' as const, what: 'label CSV' }]),
  ]);
  if (missing.length > 0) {
    throw new DatasetError(`dataset is incomplete; missing:\n${missing.map((m) => `  ${m}`).join('\n')}`, {
      details: { ...paths, missing },
    });
  }

  const imageFiles = (await readdir(paths.images, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && isImageFileName(entry.name))
    .map((entry) => entry.name)
    .sort();
  if (imageFiles.length === 0) {
    throw new DatasetError(`no images (.jpg, .jpeg, .png) in ${paths.images}`, {
      details: { images: paths.images },
    });
  }
  const ids = imageFiles.map((file) => path.parse(file).name);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) {
    throw new DatasetError(`two images in ${paths.images} share the id ${duplicate}`, {
      details: { images: paths.images, id: duplicate },
    });
  }

  const maskFiles =
    paths.masks === undefined
      ? new Set<string>()
      : new Set(
          (await readdir(paths.masks, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name),
        );
  const labelsById =
    paths.labels === undefined ? null : parseLabelsCsv(await readFile(paths.labels, 'utf8'), paths.labels);

  if (labelsById !== null) {
    const unlabelled = ids.filter((id) => !labelsById.has(id));
    if (unlabelled.length > 0) {
      throw new DatasetError(
        `${unlabelled.length} of ${ids.length} images have no row in ${paths.labels}: ${listNames(unlabelled)}`,
        { details: { labels: paths.labels, unlabelled } },
      );
    }
  }

  const samples = imageFiles.map((file, i): EvalSample => {
    const id = ids[i] as string;
    const maskFile = `${id}${MASK_SUFFIX}`;
    return {
      id,
      imagePath: path.join(paths.images, file),
      maskPath:
        paths.masks !== undefined && maskFiles.has(maskFile) ? path.join(paths.masks, maskFile) : null,
      labels: labelsById?.get(id) ?? null,
    };
  });
  return { name: name ?? paths.images, samples };
}

/**
 * Parse an ISIC 2017 Part 3 CSV (`image_id,melanoma,seborrheic_keratosis`, columns in any order,
 * extra columns ignored; LF or CRLF; a UTF-8 BOM tolerated; labels `0`/`1`/`0.0`/`1.0`).
 *
 * @param source the file name, for error messages.
 * @throws DatasetError naming the line of a missing column, a bad value or a repeated id.
 * @example
 * parseLabelsCsv('image_id,melanoma,seborrheic_keratosis\r\nISIC_0000000,1.0,0.0\r\n', 'gt.csv').get('ISIC_0000000');
 * // { melanoma: 1, seborrheic_keratosis: 0 }
 */
export function parseLabelsCsv(text: string, source: string): Map<string, ClassLabels> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((cell) => cell.trim());
  const columns = LABEL_COLUMNS.map((name) => header.indexOf(name));
  const absent = LABEL_COLUMNS.filter((_, i) => columns[i] === -1);
  if (absent.length > 0) {
    throw new DatasetError(
      `${source}: header "${lines[0] ?? ''}" lacks ${absent.join(', ')}; expected ${LABEL_COLUMNS.join(',')}`,
      { details: { source, missingColumns: absent } },
    );
  }
  const [idColumn = 0, melanomaColumn = 1, keratosisColumn = 2] = columns;

  const labels = new Map<string, ClassLabels>();
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const lineNumber = i + 2;
    const cells = line.split(',').map((cell) => cell.trim());
    const id = cells[idColumn] ?? '';
    if (id === '') throw rowError(source, lineNumber, line, 'no image_id');
    if (labels.has(id)) throw rowError(source, lineNumber, line, `image_id ${id} appears twice`);
    labels.set(id, {
      melanoma: parseLabel(cells[melanomaColumn], source, lineNumber, line, 'melanoma'),
      seborrheic_keratosis: parseLabel(
        cells[keratosisColumn],
        source,
        lineNumber,
        line,
        'seborrheic_keratosis',
      ),
    });
  });
  return labels;
}

function parseLabel(
  cell: string | undefined,
  source: string,
  lineNumber: number,
  line: string,
  column: string,
): BinaryLabel {
  const value = cell === undefined || cell === '' ? Number.NaN : Number(cell);
  if (value === 0 || value === 1) return value;
  throw rowError(source, lineNumber, line, `${column} is "${cell ?? ''}", expected 0 or 1`);
}

function rowError(source: string, lineNumber: number, line: string, problem: string): DatasetError {
  return new DatasetError(`${source}:${lineNumber}: ${problem} (line: "${line}")`, {
    details: { source, line: lineNumber },
  });
}

function isImageFileName(fileName: string): boolean {
  const { name, ext } = path.parse(fileName);
  return (
    IMAGE_EXTENSIONS.has(ext.toLowerCase()) && !NON_IMAGE_SUFFIXES.some((suffix) => name.endsWith(suffix))
  );
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, LISTED_NAMES).join(', ');
  return names.length > LISTED_NAMES ? `${shown} and ${names.length - LISTED_NAMES} more` : shown;
}

interface ExpectedPath {
  readonly path: string;
  readonly kind: 'directory' | 'file';
  readonly what: string;
}

/** "<what>: <kind> <path>" for every expected path that is absent or of the wrong kind. */
async function missingPaths(expected: readonly ExpectedPath[]): Promise<string[]> {
  const missing: string[] = [];
  for (const e of expected) {
    const found = await stat(e.path).catch(() => null);
    const ok = found !== null && (e.kind === 'directory' ? found.isDirectory() : found.isFile());
    if (!ok) missing.push(`${e.what}: ${e.kind} ${e.path}`);
  }
  return missing;
}
