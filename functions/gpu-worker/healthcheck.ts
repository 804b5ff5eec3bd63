// Container health check of the GPU worker (ECS `healthCheck`, Dockerfile HEALTHCHECK):
// `node healthcheck.mjs` exits 0 when the worker's heartbeat says it is healthy, 1 otherwise,
// and prints why. It loads neither the model nor the AWS SDK, so it costs a few milliseconds.
import {
  assessHeartbeat,
  DEFAULT_HEALTH_FILE,
  DEFAULT_MAX_POLL_AGE_MS,
  HEALTH_FILE_ENV,
  readHeartbeat,
} from '../../src/service/health.js';

const file = process.env[HEALTH_FILE_ENV] || DEFAULT_HEALTH_FILE;
const verdict = assessHeartbeat(await readHeartbeat(file), Date.now(), DEFAULT_MAX_POLL_AGE_MS);
console.log(`${verdict.healthy ? 'healthy' : 'unhealthy'}: ${verdict.reason}`);
process.exit(verdict.healthy ? 0 : 1);
