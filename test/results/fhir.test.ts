import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  buildFhirReport,
  DEFAULT_SYSTEM_BASE,
  formatProbability,
  LesionCode,
  SNOMED,
  UCUM,
  type FhirResource,
} from '../../src/results/fhir.js';
import { resultKeys } from '../../src/results/keys.js';
import { okResult } from '../helpers/result-fixtures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const schema = JSON.parse(
  readFileSync(path.join(ROOT, 'schemas', 'fhir-diagnosticreport.subset.json'), 'utf8'),
);
const validate = new Ajv2020({ allErrors: true, strict: true, strictRequired: false }).compile(schema);

const ID = 'ISIC_0012099.jpg';
const KEYS = resultKeys(ID, 'results/');
const ISSUED = '2026-11-26T05:20:00.000Z';

type Json = Record<string, unknown>;
const contained = (r: FhirResource) => r.contained as Json[];
const byId = (r: FhirResource, id: string) => contained(r).find((c) => c.id === id) as Json;
const codes = (cc: unknown) =>
  ((cc as { coding?: { system: string; code: string }[] }).coding ?? []).map((c) => `${c.system}|${c.code}`);

/** Every '#id' reference in the report, wherever it sits. */
function references(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => references(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'reference' && typeof x === 'string') out.push(x);
      else references(x, out);
    }
  }
  return out;
}

function expectValid(report: FhirResource): void {
  const ok = validate(report);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

describe('buildFhirReport', () => {
  it('emits a preliminary DiagnosticReport that matches the schema of the emitted subset', () => {
    // Act
    const report = buildFhirReport(okResult(ID), KEYS, { bucket: 'lesion-results', issued: ISSUED });

    // Assess
    expectValid(report);
    expect(report.resourceType).toBe('DiagnosticReport');
    expect(report.status).toBe('preliminary');
    expect(report.issued).toBe(ISSUED);
    expect(report.identifier).toEqual([{ system: `${DEFAULT_SYSTEM_BASE}/analysis-id`, value: ID }]);
    expect(codes(report.code)).toEqual([`${SNOMED}|1237125003`]);
    expect(String(report.conclusion)).toMatch(/not a diagnosis/);
  });

  it('resolves every reference to a contained resource and references every contained resource', () => {
    // Act
    const report = buildFhirReport(okResult(ID), KEYS, { bucket: 'lesion-results' });

    // Assess
    const ids = contained(report).map((c) => String(c.id));
    expect(new Set(ids).size).toBe(ids.length);
    const refs = references(report);
    for (const r of refs) expect(ids).toContain(r.slice(1));
    for (const id of ids) expect(refs).toContain(`#${id}`);
    expect(report.result).toEqual([
      { reference: '#obs-melanoma' },
      { reference: '#obs-seborrheic-keratosis' },
      { reference: '#obs-lesion-area' },
      { reference: '#obs-image-quality' },
    ]);
  });

  it('gives each probability with its threshold, sensitivity and specificity and the SNOMED CT target', () => {
    // Act
    const report = buildFhirReport(okResult(ID), KEYS);

    // Assess
    const mel = byId(report, 'obs-melanoma');
    expect(codes(mel.code)).toEqual([
      `${DEFAULT_SYSTEM_BASE}/CodeSystem/lesion-analysis|${LesionCode.MELANOMA_PROBABILITY}`,
    ]);
    expect(mel.valueQuantity).toEqual({ value: 0.734512, unit: 'probability', system: UCUM, code: '1' });
    expect(codes((mel.interpretation as unknown[])[0])).toEqual([
      'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation|POS',
    ]);
    expect(mel.device).toEqual({ reference: '#device-model' });
    const component = (o: Json, code: string) =>
      (o.component as Json[]).find((c) => codes(c.code)[0]!.endsWith(`|${code}`)) as Json;
    expect(codes(component(mel, LesionCode.TARGET_CONDITION).valueCodeableConcept)).toEqual([
      `${SNOMED}|372244006`,
    ]);
    expect(component(mel, LesionCode.DECISION_THRESHOLD).valueQuantity).toEqual({
      value: 0.31,
      unit: 'probability',
      system: UCUM,
      code: '1',
    });
    expect(component(mel, LesionCode.SENSITIVITY_AT_THRESHOLD).valueQuantity).toEqual({
      value: 89.33,
      unit: '%',
      system: UCUM,
      code: '%',
    });
    expect(component(mel, LesionCode.SPECIFICITY_AT_THRESHOLD).valueQuantity).toMatchObject({
      value: 60.83,
      code: '%',
    });
    const sk = byId(report, 'obs-seborrheic-keratosis');
    expect(sk.valueQuantity).toMatchObject({ value: 0.041, code: '1' });
    expect(codes((sk.interpretation as unknown[])[0])).toEqual([
      'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation|NEG',
    ]);
    // no verified SNOMED CT code for seborrheic keratosis: text only
    expect(component(sk, LesionCode.TARGET_CONDITION).valueCodeableConcept).toEqual({
      text: 'Seborrheic keratosis',
    });
  });

  it('describes the model as a Device with name, version and sha256', () => {
    // Act
    const device = byId(buildFhirReport(okResult(ID), KEYS), 'device-model');

    // Assess
    expect(device.deviceName).toEqual([{ name: 'lesion-mtl', type: 'model-name' }]);
    expect((device.version as Json[]).map((v) => v.value)).toEqual([
      '1.2.0',
      '5618a536d085a7433eeacb530ecfc436da29d7f05c9019ad98526d532e55ef71',
    ]);
  });

  it('reports the lesion area in UCUM percent and links mask and overlay as s3:// Media', () => {
    // Act
    const report = buildFhirReport(okResult(ID), KEYS, { bucket: 'lesion-results' });

    // Assess
    expect(byId(report, 'obs-lesion-area').valueQuantity).toEqual({
      value: 18.3511,
      unit: '%',
      system: UCUM,
      code: '%',
    });
    const mask = byId(report, 'media-mask');
    expect(mask.content).toMatchObject({
      contentType: 'image/png',
      url: `s3://lesion-results/results/${ID}/mask.png`,
    });
    expect([mask.width, mask.height]).toEqual([256, 192]);
    expect(byId(report, 'media-overlay').content).toMatchObject({
      contentType: 'image/jpeg',
      url: `s3://lesion-results/results/${ID}/overlay.jpg`,
    });
    expect(report.media).toEqual([
      expect.objectContaining({ link: { reference: '#media-mask' } }),
      expect.objectContaining({ link: { reference: '#media-overlay' } }),
    ]);
  });

  it('withholds the probabilities of a flagged image: no value, no interpretation, a data-absent reason', () => {
    // Prepare
    const result = okResult(ID, {
      withheldReasons: ['BLURRED'],
      flags: ['BLURRED', 'LESION_TOUCHES_BORDER'],
    });

    // Act
    const report = buildFhirReport(result, KEYS, { bucket: 'lesion-results', issued: ISSUED });

    // Assess
    expectValid(report);
    for (const id of ['obs-melanoma', 'obs-seborrheic-keratosis']) {
      const o = byId(report, id);
      expect(o.valueQuantity).toBeUndefined();
      expect(o.interpretation).toBeUndefined();
      expect(codes(o.dataAbsentReason)).toEqual([
        'http://terminology.hl7.org/CodeSystem/data-absent-reason|unknown',
      ]);
      expect(JSON.stringify(o)).not.toContain('0.734512');
    }
    const quality = byId(report, 'obs-image-quality');
    expect((quality.component as Json[]).map((c) => codes(c.code)[0]!.split('|')[1])).toEqual([
      LesionCode.CLASSIFICATION_WITHHELD,
      'BLURRED',
      'LESION_TOUCHES_BORDER',
    ]);
    expect((quality.component as Json[])[0]!.valueBoolean).toBe(true);
    expect(String(report.conclusion)).toMatch(/^Classification withheld: the image is blurred\./);
    expect(JSON.stringify(report)).not.toContain('0.734512');
  });

  it('rejects what FHIR R4 forbids: a value and a data-absent reason together, a bad id, a non-UCUM unit', () => {
    // Prepare
    const good = buildFhirReport(okResult(ID), KEYS);
    const withBoth = structuredClone(good);
    (contained(withBoth)[1] as Json).dataAbsentReason = { text: 'x' };
    const badId = structuredClone(good);
    (contained(badId)[0] as Json).id = 'device_model';
    const badUnit = structuredClone(good);
    ((contained(badUnit)[3] as Json).valueQuantity as Json).system = 'http://example.org/units';

    // Act + Assess
    expect(validate(good)).toBe(true);
    for (const bad of [withBoth, badId, badUnit]) expect(validate(bad)).toBe(false);
  });

  it('escapes the narrative and keeps a bare key as the Media url when no bucket is known', () => {
    // Prepare
    const result = okResult(ID);
    const named = { ...result, model: { ...result.model, name: 'model<script>' } };

    // Act
    const report = buildFhirReport(named, KEYS);

    // Assess
    expect((report.text as Json).div).toContain('model&lt;script&gt;');
    expect(byId(report, 'media-mask').content).toMatchObject({ url: `results/${ID}/mask.png` });
    expectValid(report);
  });

  it('prints thresholds in the narrative with at most 4 decimals, keeping the exact value in the data', () => {
    // Prepare: a threshold as a model sidecar stores it (float64 from training)
    const r = okResult(ID);
    const t = 0.23456789012345;
    const result = {
      ...r,
      classification: { ...r.classification, melanoma: { ...r.classification.melanoma, threshold: t } },
    };

    // Act
    const report = buildFhirReport(result, KEYS, { issued: ISSUED });

    // Assess
    const melanoma = byId(report, 'obs-melanoma');
    expect((melanoma.note as { text: string }[])[0]!.text).toContain('Decision threshold 0.2346;');
    expect(String(report.conclusion)).toContain('the decision threshold 0.2346)');
    expect(JSON.stringify(report.text)).not.toContain('0.23456789');
    expect((melanoma.component as Json[])[1]!.valueQuantity).toMatchObject({ value: t });
    expectValid(report);
  });

  it('formats probabilities for people', () => {
    expect(formatProbability(0.23456789012345)).toBe('0.2346');
    expect(formatProbability(0.5)).toBe('0.5');
    expect(formatProbability(0.31)).toBe('0.31');
    expect(formatProbability(0.99995)).toBe('1');
  });

  it('links fetchable media URLs with their expiry when given, valid against the schema', () => {
    // Act
    const report = buildFhirReport(okResult(ID), KEYS, {
      bucket: 'lesion-results',
      issued: ISSUED,
      mediaUrl: (key) => `https://lesion-results.s3.eu-west-1.amazonaws.com/${key}?X-Amz-Signature=abc`,
      mediaUrlExpiresAt: '2026-11-26T05:25:00.000Z',
    });

    // Assess
    expect(byId(report, 'media-mask').content).toEqual({
      contentType: 'image/png',
      url: `https://lesion-results.s3.eu-west-1.amazonaws.com/results/${ID}/mask.png?X-Amz-Signature=abc`,
      title:
        'Lesion mask (PNG, 0 = background, 255 = lesion, at the original image size); link valid until 2026-11-26T05:25:00.000Z',
    });
    expect((byId(report, 'media-overlay').content as Json).url).toMatch(/^https:\/\/.*overlay\.jpg/);
    expectValid(report);
  });
});
