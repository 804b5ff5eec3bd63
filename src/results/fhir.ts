import type { AnalysisResult, ClassOutcome } from './result.js';
import { QualityFlag } from '../processing/quality.js';
import { RESULT_CONTENT_TYPES, type ResultKeys } from './keys.js';

/**
 * FHIR R4 output: one DiagnosticReport per analysed image (`results/<image id>/report.fhir.json`),
 * status "preliminary" because it is decision support, never a diagnosis. Everything it refers
 * to is contained (Observations, the model as a Device, mask and overlay as Media), so the file
 * stands alone; the integrating backend adds `subject`, `encounter` and `basedOn` before posting
 * it to an EHR. docs/integration.md has the mapping table and a complete example;
 * schemas/fhir-diagnosticreport.subset.json describes exactly the subset emitted here.
 */
export type FhirResource = Record<string, unknown> & { resourceType: string };

export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const OBSERVATION_INTERPRETATION =
  'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const MEDIA_TYPE = 'http://terminology.hl7.org/CodeSystem/media-type';

/**
 * Base of this project's own code systems and identifier systems (no standard code exists for
 * "probability of melanoma from an image model"). `.example` is a reserved TLD: a deployment
 * sets a URL it controls through `FhirReportOptions.systemBase`.
 */
export const DEFAULT_SYSTEM_BASE = 'https://lesion-mtl.example/fhir';

/**
 * Standard codes, each checked against a published source (docs/integration.md, "FHIR mapping").
 * Seborrheic keratosis has no code here on purpose: no SNOMED CT concept id for it could be
 * verified, so it is sent as text only rather than with a guessed code.
 */
export const STANDARD_CODES = {
  /** SNOMED CT 372244006 |Malignant melanoma (disorder)|. */
  melanoma: { system: SNOMED, code: '372244006', display: 'Malignant melanoma (disorder)' },
  /** SNOMED CT 1237125003 |Optical dermatoscopy of skin (procedure)| (as used by HL7 Switzerland's CH LAB-Order IG). */
  dermatoscopy: { system: SNOMED, code: '1237125003', display: 'Optical dermatoscopy of skin (procedure)' },
} as const;

/** Codes of this project's CodeSystem `<systemBase>/CodeSystem/lesion-analysis`. */
export const LesionCode = {
  MELANOMA_PROBABILITY: 'melanoma-probability',
  SEBORRHEIC_KERATOSIS_PROBABILITY: 'seborrheic-keratosis-probability',
  TARGET_CONDITION: 'target-condition',
  DECISION_THRESHOLD: 'decision-threshold',
  SENSITIVITY_AT_THRESHOLD: 'sensitivity-at-threshold',
  SPECIFICITY_AT_THRESHOLD: 'specificity-at-threshold',
  LESION_AREA: 'lesion-area-fraction',
  LESION_TOUCHES_BORDER: 'lesion-touches-border',
  IMAGE_QUALITY: 'image-quality',
  CLASSIFICATION_WITHHELD: 'classification-withheld',
} as const;

/** What each quality flag means, for people (code system `<systemBase>/CodeSystem/quality-flag`). */
export const QUALITY_FLAG_TEXT: Readonly<Record<QualityFlag, string>> = {
  [QualityFlag.NOT_DERMOSCOPIC]: 'The image does not look like a dermoscopic image',
  [QualityFlag.BLURRED]: 'The image is blurred',
  [QualityFlag.UNDER_EXPOSED]: 'The image is under-exposed',
  [QualityFlag.OVER_EXPOSED]: 'The image is over-exposed',
  [QualityFlag.NO_LESION_FOUND]: 'No lesion was found in the image',
  [QualityFlag.LESION_TOUCHES_BORDER]: 'The lesion touches the image border (it may be cropped)',
  [QualityFlag.GREYSCALE]: 'The image has no colour (greyscale); the classification needs the colour photo',
  [QualityFlag.UNUSUAL_COLOURS]:
    'The image colours are not those of dermoscopy (colour channels swapped, hue shifted or inverted)',
};

export interface FhirReportOptions {
  /** Bucket holding mask.png / overlay.jpg; Media.content.url becomes `s3://<bucket>/<key>`. */
  readonly bucket?: string | null;
  /**
   * A fetchable URL for a result key (e.g. a presigned HTTPS URL, a `file:` URL from the CLI);
   * overrides `bucket`. Without it Media.content.url is the `s3://` storage location.
   */
  readonly mediaUrl?: (key: string) => string;
  /** When the `mediaUrl` links stop working (FHIR instant); stated in each Media's title. */
  readonly mediaUrlExpiresAt?: string;
  /** DiagnosticReport.issued (FHIR instant); omitted when not given. */
  readonly issued?: string;
  /** @default DEFAULT_SYSTEM_BASE */
  readonly systemBase?: string;
}

const DEVICE_ID = 'device-model';
const OBSERVATION_IDS = {
  melanoma: 'obs-melanoma',
  seborrheicKeratosis: 'obs-seborrheic-keratosis',
  area: 'obs-lesion-area',
  quality: 'obs-image-quality',
} as const;
const MEDIA_IDS = { mask: 'media-mask', overlay: 'media-overlay' } as const;

const ref = (id: string) => ({ reference: `#${id}` });
const quantity = (value: number, code: '1' | '%', unit: string) => ({ value, unit, system: UCUM, code });
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const percent = (x: number) => `${round(x * 100, 1)}%`;

/**
 * A probability or threshold for people: at most 4 decimals, trailing zeros dropped
 * (0.23456789012345678 → '0.2346', 0.5 → '0.5').
 */
export function formatProbability(x: number): string {
  return String(round(x, 4));
}

function escapeXhtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Attachment.url: an absolute s3:// URI, or the bare key when no bucket is known (CLI output). */
function objectUrl(bucket: string | null | undefined, key: string): string {
  return bucket ? `s3://${bucket}/${key}` : key;
}

/**
 * Build the DiagnosticReport written beside result.json.
 *
 * @example
 * const report = buildFhirReport(result, resultKeys(id, 'results/'), { bucket: 'lesion-results' });
 */
export function buildFhirReport(
  result: AnalysisResult,
  keys: ResultKeys,
  opts: FhirReportOptions = {},
): FhirResource {
  const base = opts.systemBase ?? DEFAULT_SYSTEM_BASE;
  const local = (code: string, display: string) => ({
    system: `${base}/CodeSystem/lesion-analysis`,
    code,
    display,
  });
  const c = result.classification;
  const withheldText = `Withheld by the image-quality gate (${c.withheldReasons.join(', ')}): not to be read as a finding; retake the image.`;

  const device: FhirResource = {
    resourceType: 'Device',
    id: DEVICE_ID,
    type: { text: 'Image-analysis model (clinical decision support software)' },
    deviceName: [{ name: result.model.name, type: 'model-name' }],
    version: [
      { type: { text: 'model version' }, value: result.model.version },
      { type: { text: 'sha256 of the model file' }, value: result.model.sha256 },
    ],
    note: [
      { text: `Inference on ${result.model.executionProvider}. Decision support only, not a diagnosis.` },
    ],
  };

  const probability = (
    key: 'melanoma' | 'seborrheicKeratosis',
    code: string,
    label: string,
    condition: Record<string, unknown>,
  ): FhirResource => {
    const o: ClassOutcome = c[key];
    const components = [
      {
        code: { coding: [local(LesionCode.TARGET_CONDITION, 'Condition the probability refers to')] },
        valueCodeableConcept: condition,
      },
      {
        code: {
          coding: [local(LesionCode.DECISION_THRESHOLD, 'Decision threshold on the calibrated probability')],
        },
        valueQuantity: quantity(o.threshold, '1', 'probability'),
      },
      {
        code: {
          coding: [
            local(LesionCode.SENSITIVITY_AT_THRESHOLD, "Model's sensitivity at the decision threshold"),
          ],
        },
        valueQuantity: quantity(round(o.sensitivityAtThreshold * 100, 2), '%', '%'),
      },
      {
        code: {
          coding: [
            local(LesionCode.SPECIFICITY_AT_THRESHOLD, "Model's specificity at the decision threshold"),
          ],
        },
        valueQuantity: quantity(round(o.specificityAtThreshold * 100, 2), '%', '%'),
      },
    ];
    const operatingPoint = `Decision threshold ${formatProbability(o.threshold)}; at it the model has sensitivity ${percent(o.sensitivityAtThreshold)} and specificity ${percent(o.specificityAtThreshold)} on the validation set the threshold was chosen on (optimistic: held-out figures are in the model card).`;
    const value = c.withheld
      ? {
          dataAbsentReason: {
            coding: [{ system: DATA_ABSENT_REASON, code: 'unknown', display: 'Unknown' }],
            text: withheldText,
          },
        }
      : {
          valueQuantity: quantity(o.probability, '1', 'probability'),
          interpretation: [
            {
              coding: [
                o.positive
                  ? { system: OBSERVATION_INTERPRETATION, code: 'POS', display: 'Positive' }
                  : { system: OBSERVATION_INTERPRETATION, code: 'NEG', display: 'Negative' },
              ],
              text: o.positive
                ? 'At or above the decision threshold: refer for review'
                : 'Below the decision threshold',
            },
          ],
        };
    return {
      resourceType: 'Observation',
      id: OBSERVATION_IDS[key],
      status: 'preliminary',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'imaging', display: 'Imaging' }] }],
      code: {
        coding: [local(code, `${label} probability (image model)`)],
        text: `${label} probability (image model)`,
      },
      ...value,
      note: [{ text: operatingPoint }],
      device: ref(DEVICE_ID),
      component: components,
    };
  };

  const flags = result.quality.flags;
  const observations: FhirResource[] = [
    probability('melanoma', LesionCode.MELANOMA_PROBABILITY, 'Melanoma', {
      coding: [STANDARD_CODES.melanoma],
      text: 'Melanoma',
    }),
    probability('seborrheicKeratosis', LesionCode.SEBORRHEIC_KERATOSIS_PROBABILITY, 'Seborrheic keratosis', {
      text: 'Seborrheic keratosis',
    }),
    {
      resourceType: 'Observation',
      id: OBSERVATION_IDS.area,
      status: 'preliminary',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'imaging', display: 'Imaging' }] }],
      code: {
        coding: [local(LesionCode.LESION_AREA, 'Lesion area as a share of the image (segmentation)')],
        text: 'Lesion area as a share of the image (segmentation)',
      },
      valueQuantity: quantity(round(result.segmentation.areaFraction * 100, 4), '%', '%'),
      device: ref(DEVICE_ID),
      derivedFrom: [ref(MEDIA_IDS.mask)],
      component: [
        {
          code: { coding: [local(LesionCode.LESION_TOUCHES_BORDER, 'Lesion touches the image border')] },
          valueBoolean: result.segmentation.touchesBorder,
        },
      ],
    },
    {
      resourceType: 'Observation',
      id: OBSERVATION_IDS.quality,
      status: 'preliminary',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'imaging', display: 'Imaging' }] }],
      code: { coding: [local(LesionCode.IMAGE_QUALITY, 'Image quality flags')], text: 'Image quality flags' },
      valueString: flags.length > 0 ? flags.map((f) => QUALITY_FLAG_TEXT[f]).join('; ') : 'No quality flags',
      device: ref(DEVICE_ID),
      component: [
        {
          code: {
            coding: [
              local(LesionCode.CLASSIFICATION_WITHHELD, 'Classification withheld by the quality gate'),
            ],
          },
          valueBoolean: c.withheld,
        },
        ...flags.map((f) => ({
          code: {
            coding: [{ system: `${base}/CodeSystem/quality-flag`, code: f, display: QUALITY_FLAG_TEXT[f] }],
            text: QUALITY_FLAG_TEXT[f],
          },
          valueBoolean: true,
        })),
      ],
    },
  ];

  const media = (
    id: string,
    key: string,
    contentType: string,
    text: string,
    size?: { width: number; height: number },
  ): FhirResource => ({
    resourceType: 'Media',
    id,
    status: 'completed',
    type: { coding: [{ system: MEDIA_TYPE, code: 'image', display: 'Image' }] },
    device: ref(DEVICE_ID),
    ...(size ? { width: size.width, height: size.height } : {}),
    content: {
      contentType,
      url: opts.mediaUrl ? opts.mediaUrl(key) : objectUrl(opts.bucket, key),
      title:
        opts.mediaUrl && opts.mediaUrlExpiresAt
          ? `${text}; link valid until ${opts.mediaUrlExpiresAt}`
          : text,
    },
  });
  const maskText = 'Lesion mask (PNG, 0 = background, 255 = lesion, at the original image size)';
  const overlayText = 'Lesion outline drawn on the image (JPEG)';

  const conclusion = c.withheld
    ? `Classification withheld: ${c.withheldReasons.map((f) => QUALITY_FLAG_TEXT[f].toLowerCase()).join('; ')}. Retake the image. Automated decision support, not a diagnosis.`
    : `Melanoma probability ${c.melanoma.probability.toFixed(3)} (${c.melanoma.positive ? 'at or above' : 'below'} the decision threshold ${formatProbability(c.melanoma.threshold)}); ` +
      `seborrheic keratosis probability ${c.seborrheicKeratosis.probability.toFixed(3)} (${c.seborrheicKeratosis.positive ? 'at or above' : 'below'} the decision threshold ${formatProbability(c.seborrheicKeratosis.threshold)}). ` +
      'Automated decision support, not a diagnosis.';
  const title = 'Automated dermoscopic lesion analysis (decision support, not a diagnosis)';

  return {
    resourceType: 'DiagnosticReport',
    text: {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml"><p><b>${escapeXhtml(title)}</b></p><p>${escapeXhtml(conclusion)}</p><p>Model ${escapeXhtml(result.model.name)} ${escapeXhtml(result.model.version)}. Preliminary.</p></div>`,
    },
    contained: [
      device,
      ...observations,
      media(MEDIA_IDS.mask, keys.mask, RESULT_CONTENT_TYPES.mask, maskText, {
        width: result.image.width,
        height: result.image.height,
      }),
      media(MEDIA_IDS.overlay, keys.overlay, RESULT_CONTENT_TYPES.overlay, overlayText),
    ],
    // the system's name is kept from v1 (reports in EHRs carry it); its value is the image id
    identifier: [{ system: `${base}/analysis-id`, value: result.image.id }],
    status: 'preliminary',
    category: [
      {
        coding: [{ system: V2_0074, code: 'OTH', display: 'Other' }],
        text: 'Dermoscopy AI decision support',
      },
    ],
    code: { coding: [STANDARD_CODES.dermatoscopy], text: title },
    ...(opts.issued ? { issued: opts.issued } : {}),
    result: observations.map((o) => ref(String(o.id))),
    media: [
      { comment: maskText, link: ref(MEDIA_IDS.mask) },
      { comment: overlayText, link: ref(MEDIA_IDS.overlay) },
    ],
    conclusion,
  };
}
