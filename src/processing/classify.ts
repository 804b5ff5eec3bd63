import type { ClassContract, ClassId } from '../model/contract.js';
import { sigmoid } from './mask.js';

export interface ClassResult {
  readonly id: ClassId;
  readonly label: string;
  /** Calibrated probability sigmoid(logit / temperature). */
  readonly probability: number;
  readonly threshold: number;
  /** probability >= threshold. */
  readonly positive: boolean;
  /** Sensitivity/specificity of this threshold on the split it was chosen on. */
  readonly operatingPoint: ClassContract['operatingPoint'];
}

/** Temperature-scaled probability of a logit (or a probability passed through). */
export function calibratedProbability(
  score: number,
  temperature: number,
  kind: 'logits' | 'probabilities',
): number {
  return kind === 'logits' ? sigmoid(score / temperature) : score;
}

/**
 * One image's class scores → per-class results in contract order.
 *
 * @example
 * classify(Float32Array.of(1.2, -3), contract.classes, 'logits')
 */
export function classify(
  scores: ArrayLike<number>,
  classes: readonly ClassContract[],
  kind: 'logits' | 'probabilities',
): ClassResult[] {
  return classes.map((c, i) => {
    const probability = calibratedProbability(scores[i]!, c.temperature, kind);
    return {
      id: c.id,
      label: c.label,
      probability,
      threshold: c.threshold,
      positive: probability >= c.threshold,
      operatingPoint: c.operatingPoint,
    };
  });
}
