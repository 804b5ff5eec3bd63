// SQS's own limits, used by the worker's queue calls and validated against by the CDK stack.

/** At most this many messages per ReceiveMessage / DeleteMessageBatch call (and per Lambda batch without a batching window). */
export const SQS_MAX_MESSAGES_PER_CALL = 10;
