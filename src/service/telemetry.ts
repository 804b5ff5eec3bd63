import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { MetricName } from './metric-names.js';
import type { BatchObserver } from './sqs-batch.js';

/** Structured logs + metrics for each outcome: keys, codes and timings only (no bytes, no URLs). */
export function observeWith(logger: Logger, metrics: Metrics): BatchObserver {
  return {
    onOutcome(messageId, o) {
      if (o.status === 'ok') {
        metrics.addMetric(MetricName.IMAGES_ANALYZED, MetricUnit.Count, 1);
        metrics.addMetric(MetricName.ANALYSIS_LATENCY, MetricUnit.Milliseconds, o.result.timingsMs.total);
        logger.info('analyzed', {
          messageId,
          key: o.ref.key,
          result: o.keys.result,
          flags: o.result.quality.flags,
          timingsMs: o.result.timingsMs,
        });
      } else if (o.status === 'error') {
        metrics.addMetric(MetricName.IMAGES_REJECTED, MetricUnit.Count, 1);
        logger.warn('rejected upload', {
          messageId,
          key: o.ref.key,
          code: o.error.error.code,
          errorKey: o.keys?.error,
        });
      } else if (o.status === 'duplicate') {
        metrics.addMetric(MetricName.DUPLICATE_DELIVERIES, MetricUnit.Count, 1);
        logger.info('duplicate delivery skipped', { messageId, key: o.ref.key });
      } else {
        logger.warn('ignored record', { messageId, key: o.ref.key, reason: o.reason });
      }
    },
    onRetry(messageId, e) {
      metrics.addMetric(MetricName.TRANSIENT_FAILURES, MetricUnit.Count, 1);
      logger.error('transient failure, message will be retried', {
        messageId,
        code: e.code,
        error: e.message,
        cause: String((e.cause as Error)?.message ?? ''),
      });
    },
    onGaveUp(messageId, o) {
      metrics.addMetric(MetricName.GAVE_UP_UPLOADS, MetricUnit.Count, 1);
      logger.error('last delivery failed: upload answered with a retryable error, message dead-lettered', {
        messageId,
        key: o.ref.key,
        errorKey: o.status === 'error' ? o.keys?.error : undefined,
      });
    },
    onGiveUpFailed(messageId, e) {
      metrics.addMetric(MetricName.GIVE_UP_FAILURES, MetricUnit.Count, 1);
      logger.error('last delivery failed and could not be answered: the upload stays pending', {
        messageId,
        code: e.code,
        error: e.message,
      });
    },
    onDropped(messageId, e) {
      metrics.addMetric(MetricName.MALFORMED_MESSAGES, MetricUnit.Count, 1);
      logger.error('malformed message dropped', { messageId, error: e.message });
    },
  };
}
