/**
 * Fault injection at the store boundary (LocalPipeline's `wrapStore`): the wrapped store is the
 * real S3ObjectStore over s3rver; a rule makes chosen calls fail the way S3ObjectStore reports
 * SDK failures (StorageError with the SDK-shaped error as cause) or crash outright.
 */
import { StorageError } from '../../src/errors.js';
import type { ObjectHead, ObjectStore } from '../../src/storage/s3.js';

export type StoreOp = 'head' | 'get' | 'put';

export interface StoreCall {
  readonly op: StoreOp;
  readonly bucket: string;
  readonly key: string;
  /** False when a rule made this call fail. */
  readonly ok: boolean;
}

export interface FaultRule {
  readonly op: StoreOp;
  readonly match: (key: string) => boolean;
  /** The error to throw (a fresh one per call). */
  readonly error: (op: StoreOp, bucket: string, key: string) => Error;
  /** Fail only this many matching calls, then pass. @default Infinity */
  readonly times?: number;
}

/** An error shaped like the AWS SDK's (name + $metadata.httpStatusCode). */
export function sdkError(name: string, httpStatusCode: number, message = name): Error {
  return Object.assign(new Error(message), {
    name,
    $metadata: { httpStatusCode, attempts: 3 },
    $fault: 'server',
  });
}

const S3_OPERATION = { head: 'HeadObject', get: 'GetObject', put: 'PutObject' } as const;

/** What S3ObjectStore throws after the SDK gave up on `cause`. */
export function storageFailure(cause: Error): FaultRule['error'] {
  return (op, bucket, key) =>
    new StorageError(`S3 ${S3_OPERATION[op]} failed for s3://${bucket}/${key}`, { cause });
}

export const faults = {
  internalError: storageFailure(
    sdkError('InternalError', 500, 'We encountered an internal error. Please try again.'),
  ),
  slowDown: storageFailure(sdkError('SlowDown', 503, 'Please reduce your request rate.')),
  socketTimeout: storageFailure(
    Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} }),
  ),
  /** A crash (not a LesionError): the process would die here. */
  crash: (): Error => new Error('simulated crash: worker killed'),
};

export class FaultyStore implements ObjectStore {
  readonly calls: StoreCall[] = [];
  private rules: { rule: FaultRule; left: number }[] = [];
  private crashTrigger: ((op: StoreOp, key: string) => boolean) | null = null;
  /** True once a `crashAfter` trigger fired: every later call fails like a dead process. */
  dead = false;

  constructor(readonly inner: ObjectStore) {}

  /** Add a rule; returns this for chaining. */
  fail(rule: FaultRule): this {
    this.rules.push({ rule, left: rule.times ?? Infinity });
    return this;
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * Simulate a killed process: after the first SUCCESSFUL call matching `trigger`, every call
   * (including those already in flight when they next touch the store) throws a crash error.
   */
  crashAfter(op: StoreOp, match: (key: string) => boolean): this {
    this.crashTrigger = (o, k) => o === op && match(k);
    return this;
  }

  private afterSuccess(op: StoreOp, key: string): void {
    if (this.crashTrigger?.(op, key)) this.dead = true;
  }

  private check(op: StoreOp, bucket: string, key: string): void {
    if (this.dead) {
      this.calls.push({ op, bucket, key, ok: false });
      throw faults.crash();
    }
    for (const r of this.rules) {
      if (r.rule.op === op && r.left > 0 && r.rule.match(key)) {
        r.left--;
        this.calls.push({ op, bucket, key, ok: false });
        throw r.rule.error(op, bucket, key);
      }
    }
    this.calls.push({ op, bucket, key, ok: true });
  }

  async head(bucket: string, key: string): Promise<ObjectHead | null> {
    this.check('head', bucket, key);
    const r = await this.inner.head(bucket, key);
    this.afterSuccess('head', key);
    return r;
  }

  async get(bucket: string, key: string, maxBytes: number): Promise<Buffer> {
    this.check('get', bucket, key);
    const r = await this.inner.get(bucket, key, maxBytes);
    this.afterSuccess('get', key);
    return r;
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void> {
    this.check('put', bucket, key);
    await this.inner.put(bucket, key, body, contentType, metadata);
    this.afterSuccess('put', key);
  }

  /** Keys successfully written, in call order. */
  written(): string[] {
    return this.calls.filter((c) => c.op === 'put' && c.ok).map((c) => c.key);
  }
}
