// Issue 17 "log noise": npm test prints neither the AWS SDK's Node-version notice (once per test
// file on Node 20) nor Node's ExperimentalWarning for VM modules (once per jest worker).
import { jest } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createS3Client } from '../../src/storage/s3.js';
import { REPO_ROOT } from './model.js';

describe('npm test log noise', () => {
  it("an S3 client emits no NodeVersionSupportWarning in the test environment (the SDK's own switch)", async () => {
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const client = createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
      await client.config.region(); // resolves the runtime config, where the SDK checks the version
      client.destroy();
      const warnings = emit.mock.calls.map((c) => String(c[0]));
      expect(warnings.filter((w) => w.includes('NodeVersionSupportWarning'))).toEqual([]);
    } finally {
      emit.mockRestore();
    }
  });

  it('npm test runs jest with --disable-warning=ExperimentalWarning', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.test).toContain(
      "NODE_OPTIONS='--experimental-vm-modules --disable-warning=ExperimentalWarning' jest",
    );
    // a nested `npm run` repeats npm's own config warnings (project and env) for each call
    expect(pkg.scripts.test).not.toMatch(/\bnpm (run|exec)\b/);
  });
});
