/**
 * `roomstate serve --redis` with bad input: a clear one-line error and the
 * documented exit code, never a hang or a stack trace.
 */
import { createServer } from 'node:net';
import { describe, it } from 'vitest';
import { expectOneErrorLine, runCli } from '../helpers/cli.js';

/** A loopback port with nothing listening on it (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

describe('roomstate serve --redis', () => {
  it('rejects a value that is not a Redis URL (exit 1)', async () => {
    const exit = await runCli(['serve', '--port', '0', '--secret', 's', '--redis', 'localhost:6379']);
    expectOneErrorLine(exit, 1, 'roomstate: invalid server options: redis: "localhost:6379" is not a Redis URL; expected redis://host:port or rediss://host:port.');
  });

  it('takes ROOMSTATE_REDIS_URL like --redis', async () => {
    const exit = await runCli(['serve', '--port', '0', '--secret', 's'], { env: { ROOMSTATE_REDIS_URL: 'nonsense' } });
    expectOneErrorLine(exit, 1, /redis: "nonsense" is not a Redis URL/);
  });

  it('rejects --redis-lease without --redis (exit 1)', async () => {
    const exit = await runCli(['serve', '--port', '0', '--secret', 's', '--redis-lease', '3s']);
    expectOneErrorLine(exit, 1, 'roomstate: --redis-lease needs --redis or --redis-cluster.');
  });

  it('says so when Redis cannot be reached at startup (exit 2)', async () => {
    const port = await closedPort();
    const exit = await runCli(['serve', '--port', '0', '--secret', 's', '--redis', `redis://127.0.0.1:${port}`]);
    expectOneErrorLine(exit, 2, `roomstate: cannot reach Redis at redis://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}); start it, or check --redis.`);
  });
});
