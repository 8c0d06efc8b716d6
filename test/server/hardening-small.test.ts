/**
 * The smaller hardening items of issue 10, each over real sockets:
 * prototype keys refused in attributes, one `name` per log line, the
 * session closed with 4001 when its token expires, and NFC room names.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { connectRaw } from '../helpers/raw-client.js';
import { uniqueRoom, useServers } from '../helpers/server.js';

const servers = useServers();

describe('attribute keys', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s with 1002 and relays nothing', async (key) => {
    const fx = await servers.start();
    const room = uniqueRoom();
    const mallory = await fx.connect(room, 'mallory');
    const victim = await fx.connect(room, 'victim');
    await mallory.invoke('enable', {});
    await victim.invoke('enable', {});
    await victim.waitForPush('messaging.enabled');
    const header = JSON.parse(`{"${key}": {"polluted": true}, "ok": 1}`) as object;
    expect(await mallory.request('set_attributes', header)).toEqual({
      type: 'error',
      text: `attributes.${key}: the key is not allowed (it would replace the prototype of the attribute map in clients); use another key.`,
      code: 1002,
    });
    // Nothing was applied: the next change carries only its own key.
    mallory.notify('set_attributes', { fine: 2 });
    const push = await victim.waitFor((m) => m.type === 'messaging.send' && (m.header?.type as string) === 'participant.attributes');
    expect(push.header?.message).toEqual({ attributes: { fine: 2 } });
  });
});

describe('logs', () => {
  it('writes one "name" key per line with a named logger', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString().split('\n').filter((line) => line.length > 0));
        callback();
      },
    });
    const fx = await servers.start({ logger: pino({ name: 'roomstate', level: 'info' }, destination) });
    const alice = await fx.connect(uniqueRoom(), 'alice');
    await alice.close();
    await alice.closed;
    await fx.close();
    const connected = lines.filter((line) => line.includes('participant connected'));
    expect(connected).toHaveLength(1);
    expect(connected[0]).toContain('"participantName":"alice"');
    for (const line of lines) expect(line.match(/"name":/g)?.length ?? 0, line).toBeLessThanOrEqual(1);
  });
});

describe('token expiry', () => {
  it('closes the session with 4001 "token expired" when exp passes, and the room sees it leave', async () => {
    const fx = await servers.start();
    const room = uniqueRoom();
    const watcher = await fx.connect(room, 'watcher');
    await watcher.invoke('enable', {});
    await watcher.waitForPush('messaging.enabled');
    const shortLived = await fx.connect(room, 'short', { token: { ttlSeconds: 1 } });
    await shortLived.invoke('enable', {});
    expect(await shortLived.closed).toEqual({ code: 4001, reason: 'token expired' });
    const gone = await watcher.waitFor((m) => m.type === 'messaging.send' && m.header?.type === 'participant.disabled', 10_000);
    expect(gone.header?.message).toEqual({ id: shortLived.participantId });
  });

  it('keeps a session whose token has no exp', async () => {
    const fx = await servers.start();
    const alice = await fx.connect(uniqueRoom(), 'alice', { token: { ttlSeconds: 0 } });
    expect(await alice.invoke('enable', {})).toEqual({ type: 'empty' });
  });
});

describe('room names', () => {
  it('puts the NFC and NFD spellings of a name in one room, reported in NFC', async () => {
    const fx = await servers.start();
    const nfc = `caf\u00e9-${uniqueRoom()}`;
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    const a = await connectRaw(fx.url, nfd, await fx.token(nfd, 'a'));
    const b = await connectRaw(fx.url, nfc, await fx.token(nfc, 'b'));
    try {
      expect(a.roomReady.room_name).toBe(nfc);
      await a.invoke('enable', {});
      await b.invoke('enable', {});
      expect(await a.invoke('send', { to_participant_id: b.participantId, type: 'hi', message_json: '1' })).toEqual({ type: 'empty' });
      expect(fx.server.stats().rooms).toBe(1);
    } finally {
      a.ws.terminate();
      b.ws.terminate();
    }
  });
});
