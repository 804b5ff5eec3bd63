import {
  backlogPerTask,
  backlogSteps,
  gpuCostPerMillion,
  gpuIdleCostPerMonth,
  lambdaCostPerMillion,
} from '../../cdk/capacity.js';

describe('GPU scaling steps', () => {
  it('a task works off throughput x drain time messages', () => {
    expect(backlogPerTask(150, 300)).toBe(45_000);
    expect(backlogPerTask(2.5, 1)).toBe(2); // floored
    expect(backlogPerTask(0.001, 1)).toBe(1); // never 0
  });

  it('runs ceil(backlog / perTask) tasks, 0 when empty, capped at the maximum', () => {
    expect(backlogSteps(3, 1000)).toEqual([
      { upper: 0, change: 0 },
      { lower: 1, change: 1 },
      { lower: 1001, change: 2 },
      { lower: 2001, change: 3 },
    ]);
    expect(backlogSteps(1, 1000)).toEqual([
      { upper: 0, change: 0 },
      { lower: 1, change: 1 },
    ]);
  });
});

describe('cost per million uploads (hand-computed, us-east-1 list prices)', () => {
  it('Lambda: GB-seconds plus one request per batch', () => {
    // 1e6 / 8 = 125,000 s x 3 GB x $0.0000166667 = $6.2500; 250,000 requests x $0.2/1e6 = $0.05
    expect(lambdaCostPerMillion({ imagesPerSecondPerFunction: 8, memoryMb: 3072, batchSize: 4 })).toBeCloseTo(
      6.3,
      3,
    );
  });

  it('GPU: instance-hours of busy tasks', () => {
    // 1e6 / 100 / 3600 = 2.7778 h x $1.006 = $2.7944
    expect(gpuCostPerMillion({ imagesPerSecondPerTask: 100, instanceType: 'g5.xlarge' })).toBeCloseTo(
      2.7944,
      4,
    );
    expect(() => gpuCostPerMillion({ imagesPerSecondPerTask: 1, instanceType: 'p5.48xlarge' })).toThrow(
      'no price for p5.48xlarge',
    );
  });

  it('GPU idle: interface endpoints per AZ, or NAT gateways instead', () => {
    // 8 endpoints x 2 AZs x $0.01 x 730 h = $116.80; 1 NAT x $0.045 x 730 h = $32.85
    expect(gpuIdleCostPerMonth({ natGateways: 0, interfaceEndpoints: 8, azCount: 2 })).toBeCloseTo(116.8, 6);
    expect(gpuIdleCostPerMonth({ natGateways: 1, interfaceEndpoints: 8, azCount: 2 })).toBeCloseTo(32.85, 6);
  });
});
