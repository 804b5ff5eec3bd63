import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DatasetError,
  isic2017SplitPaths,
  loadDataset,
  loadIsic2017Split,
  parseIsic2017Split,
  parseLabelsCsv,
} from '../../src/eval/dataset.js';
import { writeSyntheticIsicSplit } from './synthetic-dataset.js';

describe('parseLabelsCsv', () => {
  it('reads the official CRLF format with 0.0 / 1.0 values', () => {
    const csv = 'image_id,melanoma,seborrheic_keratosis\r\nISIC_0000001,1.0,0.0\r\nISIC_0000002,0.0,1.0\r\n';
    expect(parseLabelsCsv(csv, 'gt.csv')).toEqual(
      new Map([
        ['ISIC_0000001', { melanoma: 1, seborrheic_keratosis: 0 }],
        ['ISIC_0000002', { melanoma: 0, seborrheic_keratosis: 1 }],
      ]),
    );
  });

  it('accepts columns in another order, a BOM and blank lines', () => {
    const csv = '\uFEFFseborrheic_keratosis,image_id,melanoma\n1,ISIC_0000001,0\n\n';
    expect(parseLabelsCsv(csv, 'gt.csv').get('ISIC_0000001')).toEqual({
      melanoma: 0,
      seborrheic_keratosis: 1,
    });
  });

  it('names the missing column of a wrong header', () => {
    expect(() => parseLabelsCsv('image_id,melanoma\nISIC_1,1\n', 'gt.csv')).toThrow(
      /lacks seborrheic_keratosis/,
    );
  });

  it('names the file and line of a value that is not 0 or 1', () => {
    const csv = 'image_id,melanoma,seborrheic_keratosis\nISIC_1,0.0,0.0\nISIC_2,0.7,0.0\n';
    expect(() => parseLabelsCsv(csv, 'gt.csv')).toThrow(/gt\.csv:3: melanoma is "0\.7"/);
  });

  it('rejects an image id that appears twice', () => {
    const csv = 'image_id,melanoma,seborrheic_keratosis\nISIC_1,0,0\nISIC_1,1,0\n';
    expect(() => parseLabelsCsv(csv, 'gt.csv')).toThrow(/appears twice/);
  });
});

describe('parseIsic2017Split', () => {
  it('returns the official spelling of a case-insensitive name', () => {
    expect(parseIsic2017Split('test_V2')).toBe('Test_v2');
  });

  it('lists the valid splits for an unknown name', () => {
    expect(() => parseIsic2017Split('Test')).toThrow('expected one of Training, Validation, Test_v2');
  });
});

describe('isic2017SplitPaths', () => {
  it('builds the official folder and CSV names', () => {
    expect(isic2017SplitPaths('/d', 'Test_v2')).toEqual({
      images: path.join('/d', 'ISIC-2017_Test_v2_Data'),
      masks: path.join('/d', 'ISIC-2017_Test_v2_Part1_GroundTruth'),
      labels: path.join('/d', 'ISIC-2017_Test_v2_Part3_GroundTruth.csv'),
    });
  });
});

describe('loadIsic2017Split', () => {
  let root: string;

  beforeAll(async () => {
    root = await writeSyntheticIsicSplit('Validation');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists every image sorted by id with its mask and labels', async () => {
    const dataset = await loadIsic2017Split(root, 'Validation');
    expect(dataset.samples.map((s) => s.id)).toEqual([
      'ISIC_0000001',
      'ISIC_0000002',
      'ISIC_0000003',
      'ISIC_0000004',
    ]);
    expect(dataset.samples[0]).toEqual({
      id: 'ISIC_0000001',
      imagePath: path.join(root, 'ISIC-2017_Validation_Data', 'ISIC_0000001.jpg'),
      maskPath: path.join(root, 'ISIC-2017_Validation_Part1_GroundTruth', 'ISIC_0000001_segmentation.png'),
      labels: { melanoma: 1, seborrheic_keratosis: 0 },
    });
  });

  it('gives an image without a mask file a null maskPath', async () => {
    const dataset = await loadIsic2017Split(root, 'Validation');
    expect(dataset.samples[3]?.maskPath).toBeNull();
  });

  it('lists every missing part of a split with the path where it was expected', async () => {
    const error = await loadIsic2017Split(root, 'Test_v2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    const message = (error as DatasetError).message;
    expect(message).toContain(path.join(root, 'ISIC-2017_Test_v2_Data'));
    expect(message).toContain(path.join(root, 'ISIC-2017_Test_v2_Part1_GroundTruth'));
    expect(message).toContain(path.join(root, 'ISIC-2017_Test_v2_Part3_GroundTruth.csv'));
  });
});

describe('loadDataset', () => {
  let root: string;
  let paths: { images: string; masks: string; labels: string };

  beforeAll(async () => {
    root = await writeSyntheticIsicSplit('Validation');
    paths = isic2017SplitPaths(root, 'Validation');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('loads images alone, without masks or labels', async () => {
    const dataset = await loadDataset({ images: paths.images });
    expect(dataset.samples.every((s) => s.maskPath === null && s.labels === null)).toBe(true);
  });

  it('skips superpixel and segmentation files beside the images', async () => {
    const images = await mkdtemp(path.join(tmpdir(), 'lesion-eval-images-'));
    await writeFile(path.join(images, 'ISIC_1.jpg'), '');
    await writeFile(path.join(images, 'ISIC_1_superpixels.png'), '');
    await writeFile(path.join(images, 'ISIC_1_segmentation.png'), '');
    await writeFile(path.join(images, 'ISIC-2017_Data_metadata.csv'), '');

    const dataset = await loadDataset({ images });

    expect(dataset.samples.map((s) => s.id)).toEqual(['ISIC_1']);
    await rm(images, { recursive: true, force: true });
  });

  it('lists the images that have no row in the label CSV', async () => {
    const labels = path.join(root, 'partial.csv');
    await writeFile(labels, 'image_id,melanoma,seborrheic_keratosis\nISIC_0000001,1.0,0.0\n');
    await expect(loadDataset({ images: paths.images, labels })).rejects.toThrow(
      /3 of 4 images have no row in .*partial\.csv: ISIC_0000002, ISIC_0000003, ISIC_0000004/,
    );
  });

  it('names a missing masks folder', async () => {
    const masks = path.join(root, 'no-such-masks');
    await expect(loadDataset({ images: paths.images, masks })).rejects.toThrow(`masks: directory ${masks}`);
  });

  it('rejects an image folder without images', async () => {
    const images = path.join(root, 'empty');
    await mkdir(images);
    await expect(loadDataset({ images })).rejects.toThrow(/no images/);
  });
});

/** `../shared` beside the checkout; absent for most users and in CI without the data. */
const ISIC2017_ROOT = fileURLToPath(new URL('../../../shared/data/isic2017', import.meta.url));
const describeWithIsic = existsSync(ISIC2017_ROOT) ? describe : describe.skip;

describeWithIsic('loadIsic2017Split on the real ISIC 2017 data (../shared)', () => {
  it('finds the 150 Validation images, 30 melanoma and 42 seborrheic keratosis, all with masks', async () => {
    const dataset = await loadIsic2017Split(ISIC2017_ROOT, 'Validation');
    expect(dataset.samples).toHaveLength(150);
    expect(dataset.samples.filter((s) => s.labels?.melanoma === 1)).toHaveLength(30);
    expect(dataset.samples.filter((s) => s.labels?.seborrheic_keratosis === 1)).toHaveLength(42);
    expect(dataset.samples.every((s) => s.maskPath !== null)).toBe(true);
  });
});
