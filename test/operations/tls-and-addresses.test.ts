/**
 * TLS and the addresses a server reports: `wss://` and `https://` served
 * directly with a certificate generated at test time, and `publicUrl`
 * fixing `room_url` in `room_ready`.
 */
import { get } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate, type TestCertificate } from '../helpers/certificate.js';
import { connectRaw } from '../helpers/raw-client.js';
import { uniqueRoom, useServer, useServers } from '../helpers/server.js';
import { createRoomServer } from '../../src/server/index.js';

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await generateCertificate();
});
afterAll(() => certificate?.dispose());

/** GET over HTTPS trusting `ca`; resolves with the status and body. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('TLS', () => {
  const fx = useServer(() => ({ tls: { cert: certificate.cert, key: certificate.key }, metrics: true }));

  it('serves wss:// to a client that trusts the certificate, and reports wss:// URLs', async () => {
    expect(fx.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const room = uniqueRoom();
    const options = { wsOptions: { ca: certificate.cert } };
    const alice = await fx.connect(room, 'alice', options);
    const bob = await fx.connect(room, 'bob', options);
    expect(alice.roomReady.room_url).toBe(`${fx.url}/rooms/${room}`);
    await alice.invoke('enable', {});
    await bob.invoke('enable', {});
    await alice.invoke('send', { to_participant_id: bob.participantId, type: 'over-tls', message_json: '{"ok":true}' });
    expect((await bob.waitForPush('over-tls')).message).toEqual({ ok: true });
  });

  it('refuses a client that does not trust the certificate', async () => {
    const token = await fx.token(uniqueRoom(), 'mallory');
    await expect(connectRaw(fx.url, uniqueRoom(), token)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('serves GET / and /metrics over https://', async () => {
    const base = `https://127.0.0.1:${fx.port}`;
    const status = await httpsGet(`${base}/`, certificate.cert);
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ status: 'ok' });
    expect(fx.server.address!.metricsUrl).toBe(`${base}/metrics`);
    const metrics = await httpsGet(`${base}/metrics`, certificate.cert);
    expect(metrics.body).toMatch(/^roomstate_connections \d+$/m);
  });
});

describe('publicUrl', () => {
  const servers = useServers();

  it('fixes room_url in room_ready, whatever the Host header says', async () => {
    const fx = await servers.start({ publicUrl: 'wss://rooms.example.com/base/' });
    const room = uniqueRoom('a b');
    const alice = await fx.connect(room, 'alice', { headers: { Host: 'internal:9999' } });
    expect(alice.roomReady.room_url).toBe(`wss://rooms.example.com/base/rooms/${encodeURIComponent(room)}`);
  });

  it('without it, room_url comes from the Host header', async () => {
    const fx = await servers.start();
    const room = uniqueRoom();
    const alice = await fx.connect(room, 'alice', { headers: { Host: 'proxy.internal:8443' } });
    expect(alice.roomReady.room_url).toBe(`ws://proxy.internal:8443/rooms/${room}`);
  });

  it.each([
    ['rooms.example.com', /is not a URL/],
    ['https://rooms.example.com', /must start with ws:\/\/ or wss:\/\//],
    ['wss://rooms.example.com/?x=1', /must not have a query/],
  ])('refuses %j with a clear error', (publicUrl, message) => {
    expect(() => createRoomServer({ secret: 's', publicUrl })).toThrow(message);
  });
});
