/**
 * Native ESM jest (NODE_OPTIONS=--experimental-vm-modules, set by `npm test` with
 * --disable-warning=ExperimentalWarning so each worker does not say so); @swc/jest strips types.
 */
export default {
  testEnvironment: '<rootDir>/test/helpers/onnx-environment.cjs',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // test/container-images runs only from `npm run test:images`, after the images are built.
  testPathIgnorePatterns: [
    '/node_modules/',
    '/cdk.out/',
    '/test/load/',
    ...(process.env.LESION_TEST_IMAGES ? [] : ['/test/container-images/']),
  ],
  testTimeout: 60000,
  maxWorkers: 2,
  // `npm test` measures line/branch coverage of the code that ships (V8's own counters: no
  // instrumentation of the sources) and fails under the floor below. Child processes (the CLI,
  // the worker, the local run, the images) are not counted, so the real figure is higher.
  collectCoverageFrom: ['src/**/*.ts', 'functions/**/*.ts', 'cdk/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary', 'json-summary'],
  coverageDirectory: 'coverage',
  // measured 2026-12-04: lines 89.2 %, branches 90.1 %, functions 95.1 %
  coverageThreshold: { global: { lines: 85, statements: 85, branches: 85, functions: 90 } },
};
