// completionEvent: the event a consumer acts on, derived from stored result.json / error.json.
import { completionEvent, completionEventId, DetailType } from '../../src/results/completion-event.js';
import { resultKeys } from '../../src/results/keys.js';
import { exampleError, exampleResult } from '../helpers/results.js';

const keys = resultKeys('clinic_1/ISIC_1.jpg', 'results/');
const common = { keys, uploadETag: '"abc"', resultsBucket: 'results-bucket' };

describe('completionEvent', () => {
  it('carries the probabilities of a shown classification', () => {
    // Arrange
    const shown = {
      ...exampleResult,
      classification: { ...exampleResult.classification, withheld: false, withheldReasons: [] },
    };

    // Act
    const event = completionEvent({ status: 'ok', result: shown, ...common });

    // Assert
    expect(event.detailType).toBe(DetailType.COMPLETED);
    expect(event.detail).toMatchObject({
      probabilities: { melanoma: 0.7, seborrheicKeratosis: 0.1 },
      withheld: false,
      errorCode: null,
      eventId: completionEventId(DetailType.COMPLETED, exampleResult.image.id, '"abc"'),
    });
  });

  it('sends no probabilities when the classification is withheld (failed quality gate)', () => {
    // Act
    const event = completionEvent({ status: 'ok', result: exampleResult, ...common });

    // Assert: exampleResult is withheld (BLURRED)
    expect(event.detail).toMatchObject({
      probabilities: null,
      withheld: true,
      flags: exampleResult.quality.flags,
    });
  });

  it('names the error code of a failed upload, with no probabilities', () => {
    const event = completionEvent({ status: 'error', error: exampleError, ...common });
    expect(event.detailType).toBe(DetailType.FAILED);
    expect(event.detail).toMatchObject({ probabilities: null, withheld: null, errorCode: 'CORRUPT_IMAGE' });
  });
});
