/**
 * `npm install` on a fresh clone must leave package-lock.json as committed:
 * the lock's root entry has to list exactly package.json's dependencies,
 * each in the same section. (It once listed the optional bufferutil under
 * `dependencies` with a pinned range, so every install rewrote it.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (name: string) => JSON.parse(readFileSync(new URL(name, root), 'utf8')) as Record<string, unknown>;

describe('package-lock.json', () => {
  it('has a root entry that matches package.json section by section', () => {
    const pkg = read('package.json');
    const lock = read('package-lock.json') as { lockfileVersion: number; packages: Record<string, Record<string, unknown>> };
    expect(lock.lockfileVersion).toBe(3);
    const lockRoot = lock.packages[''];
    for (const section of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      expect(lockRoot[section] ?? {}, section).toEqual(pkg[section] ?? {});
    }
    expect(lockRoot.version).toBe(pkg.version);
  });
});
