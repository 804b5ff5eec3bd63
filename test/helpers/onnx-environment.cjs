// onnxruntime-node checks `data instanceof Float32Array` against the main realm's constructors,
// but jest runs tests in a separate vm context with its own typed-array classes
// (onnxruntime issue #16622). Share the real constructors with the test global.
const { TestEnvironment } = require('jest-environment-node');

// Test files see a copy of process.env (jest's sandbox): setting ORT_DISABLE_TELEMETRY there
// (src/inference/no-telemetry.ts) would not reach onnxruntime, which reads the real environment.
// Set it in the worker itself, before any test creates a session.
const { env } = require('node:process');
if (!env.ORT_DISABLE_TELEMETRY) env.ORT_DISABLE_TELEMETRY = '1';
// The AWS SDK's notice that its 2027 releases need Node 22 (9 lines, once per test file on Node
// 20): the README states the Node versions; tests need not repeat it. Its own switch
// (@aws-sdk/core emitWarningIfUnsupportedVersion); set before the sandboxes copy the environment.
if (!env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED)
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'Float32Array',
      'Float64Array',
      'Int8Array',
      'Int16Array',
      'Int32Array',
      'BigInt64Array',
      'Uint8Array',
      'Uint8ClampedArray',
      'Uint16Array',
      'Uint32Array',
      'BigUint64Array',
      'ArrayBuffer',
      'SharedArrayBuffer',
      'Buffer',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OnnxEnvironment;
