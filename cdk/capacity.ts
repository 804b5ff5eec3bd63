// Capacity and cost of the two compute paths, as pure functions: the GPU service's scaling
// steps come from a task's throughput and the backlog goal, and the README's cost table
// (scripts/cost-table.ts) from measured throughput and public prices.

/**
 * Uploads per second that one GPU worker task (one g5.xlarge: 4 vCPUs, one A10G) sustains end
 * to end. **An estimate, not a measurement**: no GPU run of the worker exists yet. It assumes the
 * CPU side is the limit — this project's CPU machine spends ~7 ms of decode + postprocess +
 * encode per 256x192 upload (docs/benchmarks/latest.md, section 3), so 4 vCPUs at half
 * efficiency (one JS thread, S3 round trips) give ~285/s — and takes about half of that; batched
 * CUDA inference of a MobileNetV2 U-Net ran at ~3,900 images/s on an H200 (../shared/STACK.md),
 * far from the limit. Replace it with the GPU run's figure (`gpuImagesPerSecondPerTask`).
 */
export const GPU_TASK_IMAGES_PER_SECOND_ESTIMATE = 150;

/** How long a backlog may take to be worked off before another task is started. */
export const DEFAULT_BACKLOG_DRAIN_SECONDS = 300;

/** Messages one task works off within the drain goal: the backlog step per extra task. */
export function backlogPerTask(imagesPerSecondPerTask: number, drainSeconds: number): number {
  return Math.max(1, Math.floor(imagesPerSecondPerTask * drainSeconds));
}

/** One step of an EXACT_CAPACITY step-scaling policy on the backlog metric. */
export interface BacklogStep {
  readonly lower?: number;
  readonly upper?: number;
  readonly change: number;
}

/**
 * Tasks = ceil(backlog / perTask), capped at maxTasks; 0 when the queue is empty (scale to zero,
 * no GPU hours while idle). Backlog b >= 1 runs ceil(b / perTask) tasks.
 *
 * @example
 * backlogSteps(3, 1000) // [{upper: 0, change: 0}, {lower: 1, change: 1}, {lower: 1001, change: 2}, {lower: 2001, change: 3}]
 */
export function backlogSteps(maxTasks: number, perTask: number): BacklogStep[] {
  const steps: BacklogStep[] = [
    { upper: 0, change: 0 },
    { lower: 1, change: 1 },
  ];
  for (let tasks = 2; tasks <= maxTasks; tasks++)
    steps.push({ lower: (tasks - 1) * perTask + 1, change: tasks });
  return steps;
}

/**
 * Public on-demand list prices (Linux, us-east-1) that the cost table uses. Read from AWS's
 * published price lists as of June 2026; not re-read on this offline machine since — check them
 * before relying on a figure.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2026-06',
  /** Lambda x86_64, per GB-second and per request. */
  lambdaPerGbSecond: 0.0000166667,
  lambdaPerRequest: 0.2 / 1e6,
  /** EC2 on-demand per instance-hour. */
  ec2PerHour: { 'g5.xlarge': 1.006, 'g4dn.xlarge': 0.526 } as Record<string, number>,
  /** One interface VPC endpoint in one AZ, per hour (data processed, $0.01/GB, not included). */
  interfaceEndpointPerAzHour: 0.01,
  natGatewayPerHour: 0.045,
} as const;

export const HOURS_PER_MONTH = 730;

/** Lambda allots one vCPU per 1769 MB of memory. */
export const LAMBDA_MB_PER_VCPU = 1769;

/** Compute cost of 1 million uploads on the Lambda path (GB-seconds + one request per batch). */
export function lambdaCostPerMillion(o: {
  readonly imagesPerSecondPerFunction: number;
  readonly memoryMb: number;
  readonly batchSize: number;
}): number {
  const seconds = 1e6 / o.imagesPerSecondPerFunction;
  return (
    seconds * (o.memoryMb / 1024) * PRICES.lambdaPerGbSecond + (1e6 / o.batchSize) * PRICES.lambdaPerRequest
  );
}

/** Compute cost of 1 million uploads on busy GPU tasks (instance-hours only). */
export function gpuCostPerMillion(o: {
  readonly imagesPerSecondPerTask: number;
  readonly instanceType: string;
}): number {
  const hourly = PRICES.ec2PerHour[o.instanceType];
  if (hourly === undefined) throw new Error(`no price for ${o.instanceType}`);
  return (1e6 / o.imagesPerSecondPerTask / 3600) * hourly;
}

/**
 * What the GPU path costs per month with no uploads at all: its interface endpoints in every AZ
 * (isolated subnets), or its NAT gateways. Instances and tasks scale to zero; the S3 gateway
 * endpoint, the cluster and the queue cost nothing idle.
 */
export function gpuIdleCostPerMonth(o: {
  readonly natGateways: number;
  readonly interfaceEndpoints: number;
  readonly azCount: number;
}): number {
  const hourly =
    o.natGateways > 0
      ? o.natGateways * PRICES.natGatewayPerHour
      : o.interfaceEndpoints * o.azCount * PRICES.interfaceEndpointPerAzHour;
  return hourly * HOURS_PER_MONTH;
}
