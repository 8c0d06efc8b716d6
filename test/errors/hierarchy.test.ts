/**
 * Everything roomstate throws on purpose is a RoomStateError with a stable
 * code: no plain Error, TypeError or RangeError is thrown from src/, and the
 * errors that used to be plain ones carry their codes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RoomStateErrorCode } from '../../src/errors.js';
import { createRoomServer } from '../../src/server/index.js';
import { resolveLimits } from '../../src/server/core/limits.js';
import { resolveClusterOptions } from '../../src/server/cluster/cluster-options.js';
import { ROOT } from '../helpers/consumer-project.js';

/** `file:line` of every `new Error|TypeError|RangeError(` under `dir`: thrown, rejected, emitted or given as an abort reason. */
function plainThrows(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...plainThrows(path));
    else if (entry.name.endsWith('.ts')) {
      readFileSync(join(ROOT, path), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (/\bnew (Error|TypeError|RangeError)\(/.test(line)) found.push(`${path}:${index + 1}`);
        });
    }
  }
  return found;
}

describe('the error hierarchy', () => {
  it('src/ and machines/ make no plain Error, TypeError or RangeError', () => {
    expect([...plainThrows('src'), ...plainThrows('machines')]).toEqual([]);
  });

  it('bad server options are validation errors naming the field', () => {
    expect(() => createRoomServer({ secret: '' })).toThrow(expect.objectContaining({ code: RoomStateErrorCode.Validation, field: 'secret' }));
    expect(() => resolveLimits({ maxRooms: -1 })).toThrow(expect.objectContaining({ code: RoomStateErrorCode.Validation, field: 'limits.maxRooms' }));
    expect(() => createRoomServer({ secret: 's', publicUrl: 'https://x' })).toThrow(expect.objectContaining({ code: RoomStateErrorCode.Validation, field: 'publicUrl' }));
    expect(() => resolveClusterOptions({ url: 'http://nope' })).toThrow(expect.objectContaining({ code: RoomStateErrorCode.Validation, field: 'redis' }));
  });

  it('listen() after close() rejects with ROOM_ERR_CLOSED', async () => {
    const server = createRoomServer({ secret: 's', host: '127.0.0.1', port: 0 });
    await server.listen();
    await server.close();
    await expect(server.listen()).rejects.toMatchObject({ code: RoomStateErrorCode.Closed, message: 'the room server was closed; create a new one.' });
  });
});
