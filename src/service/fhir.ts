import type { AnalysisResult } from '../pipeline/result.js';
import type { ResultKeys } from '../storage/keys.js';

/** FHIR R4 DiagnosticReport for one analysis (decision support: status "preliminary"). */
export type FhirResource = Record<string, unknown> & { resourceType: string };

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';

/**
 * Build the report written beside result.json. Codes and structure are documented in README
 * ("FHIR mapping"); test/service/fhir.test.ts validates the emitted subset against a schema.
 */
export function buildFhirReport(result: AnalysisResult, keys: ResultKeys): FhirResource {
  const id = result.image.id;
  const device = {
    resourceType: 'Device',
    id: 'model',
    deviceName: [{ name: result.model.name, type: 'model-name' }],
    version: [{ value: result.model.version }, { type: { text: 'sha256' }, value: result.model.sha256 }],
  };
  const probabilityObs = (
    key: 'melanoma' | 'seborrheicKeratosis',
    snomed: { code: string; display: string },
  ): FhirResource => {
    const c = result.classification[key];
    return {
      resourceType: 'Observation',
      id: `obs-${key}`,
      status: 'preliminary',
      code: {
        coding: [{ system: SNOMED, code: snomed.code, display: snomed.display }],
        text: `Probability of ${snomed.display.replace(/ \(disorder\)$/, '').toLowerCase()}`,
      },
      device: { reference: '#model' },
      valueQuantity: { value: c.probability, unit: 'probability', system: 'http://unitsofmeasure.org', code: '1' },
      interpretation: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
              code: c.positive ? 'POS' : 'NEG',
            },
          ],
          text: result.classification.withheld
            ? `withheld: ${result.classification.withheldReasons.join(', ')}`
            : c.positive
              ? 'above decision threshold'
              : 'below decision threshold',
        },
      ],
      referenceRange: [{ high: { value: c.threshold }, text: 'decision threshold on calibrated probability' }],
      note: [
        {
          text: `Operating point on ISIC 2017 Validation: sensitivity ${c.sensitivityAtThreshold.toFixed(3)}, specificity ${c.specificityAtThreshold.toFixed(3)}.`,
        },
      ],
    };
  };
  const observations: FhirResource[] = [
    probabilityObs('melanoma', { code: '372244006', display: 'Malignant melanoma (disorder)' }),
    probabilityObs('seborrheicKeratosis', { code: '201060008', display: 'Seborrheic keratosis (disorder)' }),
    {
      resourceType: 'Observation',
      id: 'obs-area',
      status: 'preliminary',
      code: { text: 'Lesion area fraction of the image (segmentation)' },
      device: { reference: '#model' },
      valueQuantity: { value: result.segmentation.areaFraction, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
    },
    {
      resourceType: 'Observation',
      id: 'obs-quality',
      status: 'preliminary',
      code: { text: 'Image quality flags' },
      device: { reference: '#model' },
      valueString: result.quality.flags.length > 0 ? result.quality.flags.join(',') : 'none',
    },
  ];
  const media = (mid: string, key: string, text: string): FhirResource => ({
    resourceType: 'Media',
    id: mid,
    status: 'completed',
    content: { contentType: 'image/png', url: key, title: text },
  });
  return {
    resourceType: 'DiagnosticReport',
    id,
    status: 'preliminary',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'OTH' }], text: 'Dermoscopy AI decision support' }],
    code: { text: 'Automated dermoscopic lesion analysis (decision support, not a diagnosis)' },
    contained: [device, ...observations, media('media-mask', keys.mask, 'Lesion mask'), media('media-overlay', keys.overlay, 'Lesion outline overlay')],
    result: observations.map((o) => ({ reference: `#${String(o.id)}` })),
    media: [
      { comment: 'Lesion mask (PNG, 0/255)', link: { reference: '#media-mask' } },
      { comment: 'Lesion outline overlay', link: { reference: '#media-overlay' } },
    ],
    conclusion: result.classification.withheld
      ? `Classification withheld: ${result.classification.withheldReasons.join(', ')}.`
      : `Melanoma probability ${result.classification.melanoma.probability.toFixed(3)}; seborrheic keratosis probability ${result.classification.seborrheicKeratosis.probability.toFixed(3)}.`,
  };
}
