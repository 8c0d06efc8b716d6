/**
 * The directory conformance suite against Redis cluster nodes in this
 * process: two nodes, then three, on one real redis-server.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startNodes } from './cluster-fixtures.js';
import { directoryConformance } from './directory-conformance.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.dispose());

describe.each([2, 3])('redis directory, %i nodes', (count) => {
  directoryConformance(() => startNodes(redis.url, count));
});
