// onnxruntime-node checks `data instanceof Float32Array` against the main realm's constructors,
// but jest runs tests in a separate vm context with its own typed-array classes
// (onnxruntime issue #16622). Share the real constructors with the test global.
const { TestEnvironment } = require('jest-environment-node');

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
