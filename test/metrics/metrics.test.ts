/**
 * `GET /metrics` over real HTTP while real clients act: the gauges follow the
 * rooms, the counters move by kind, code and reason, and each server has its
 * own registry.
 */
import { describe, expect, it } from 'vitest';
import { expectUpgradeRefused, type RawClient } from '../helpers/raw-client.js';
import { uniqueRoom, useServers, type TestServer } from '../helpers/server.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

const servers = useServers({ metrics: true });
const start = servers.start;

/** One scrape, as `name{labels}` -> value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

async function enabledPair(fx: TestServer, room: string): Promise<[RawClient, RawClient]> {
  const alice = await fx.connect(room, 'alice');
  const bob = await fx.connect(room, 'bob');
  await alice.invoke('enable', {});
  await bob.invoke('enable', {});
  await alice.waitForPush('participant.enabled');
  return [alice, bob];
}

describe('GET /metrics', () => {
  it('reports rooms, participants and connections, and counts traffic by kind', async () => {
    const fx = await start();
    const url = `${fx.httpUrl}/metrics`;
    const idle = await scrape(url);
    expect(idle.get('roomstate_connections')).toBe(0);
    expect(idle.get('roomstate_rooms')).toBe(0);
    expect(idle.get('roomstate_messages_delivered_total{kind="direct"}')).toBe(0);
    expect(idle.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(idle.has('process_cpu_user_seconds_total')).toBe(true);

    const room = uniqueRoom();
    const [alice, bob] = await enabledPair(fx, room);
    await fx.connect(room, 'carol');
    await alice.invoke('send', { to_participant_id: bob.participantId, type: 'hi', message_json: '{"n":1}' });
    await bob.waitForPush('hi');
    await alice.invoke('broadcast', { type: 'all', message_json: '{}' });
    await bob.waitForPush('all');
    expect(await alice.invoke('send', { to_participant_id: 'nobody', type: 'x', message_json: '{}' })).toMatchObject({ code: 1003 });

    const busy = Object.fromEntries(await scrape(url));
    expect(busy).toMatchObject({
      roomstate_connections: 3,
      roomstate_rooms: 1,
      roomstate_participants: 3,
      roomstate_messaging_enabled_participants: 2,
      'roomstate_messages_received_total{kind="direct"}': 2,
      'roomstate_messages_received_total{kind="broadcast"}': 1,
      'roomstate_messages_received_total{kind="presence"}': 2,
      'roomstate_messages_delivered_total{kind="direct"}': 1,
      'roomstate_messages_delivered_total{kind="broadcast"}': 1,
      // Two snapshots and bob's announcement to alice.
      'roomstate_messages_delivered_total{kind="presence"}': 3,
      'roomstate_error_responses_total{code="1003"}': 1,
    });
    expect(busy['roomstate_received_bytes_total{kind="direct"}']).toBeGreaterThan(0);
    expect(busy['roomstate_delivered_bytes_total{kind="broadcast"}']).toBeGreaterThan(0);

    await bob.close();
    await alice.waitForPush('participant.disabled');
    const after = await scrape(url);
    expect(after.get('roomstate_participants')).toBe(2);
    expect(after.get('roomstate_messaging_enabled_participants')).toBe(1);
  });

  it('counts refused upgrades by status and reason', async () => {
    const fx = await start();
    await expectUpgradeRefused(fx.url, uniqueRoom(), 'not-a-token');
    await expectUpgradeRefused(fx.url, uniqueRoom(), 'not-a-token');
    const samples = await scrape(`${fx.httpUrl}/metrics`);
    const refused = [...samples].filter(([name]) => name.startsWith('roomstate_upgrades_refused_total{status="403"'));
    expect(refused.reduce((sum, [, value]) => sum + value, 0)).toBe(2);
  });

  it('counts rate-limit pauses; held requests are answered once the (test-driven) clock moves on', async () => {
    let now = 0;
    const fx = await start({ limits: { messagesPerSecond: 3 }, clock: () => now });
    const alice = await fx.connect(uniqueRoom(), 'alice');
    const replies = Promise.all(Array.from({ length: 5 }, () => alice.invoke('broadcast', { type: 't', message_json: '{}' })));
    const url = `${fx.httpUrl}/metrics`;
    await expect.poll(async () => (await scrape(url)).get('roomstate_rate_limit_pauses_total'), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    now = 60_000;
    expect(await replies).toEqual(Array.from({ length: 5 }, () => ({ type: 'empty' })));
    const samples = await scrape(url);
    expect(samples.get('roomstate_messages_received_total{kind="broadcast"}')).toBe(5);
    expect(samples.get('roomstate_error_responses_total{code="1008"}') ?? 0).toBe(0);
  });

  it('counts a slow consumer cut', async () => {
    const fx = await start({ limits: { maxBufferedBytes: 64 * 1024 } });
    const room = uniqueRoom();
    const [alice, bob] = await enabledPair(fx, room);
    requireTcpSocket(bob.ws).pause();
    const body = 'x'.repeat(256 * 1024);
    // The kernel buffers absorb the first megabytes; keep sending until the server gives up on bob.
    const gone = alice.waitForPush('participant.disabled', () => true, 60_000);
    let cut = false;
    void gone.then(() => (cut = true));
    for (let sent = 0; !cut && sent < 1000; sent++) await alice.invoke('broadcast', { type: 'bulk', message_json: JSON.stringify(body) });
    await gone;
    const samples = await scrape(`${fx.httpUrl}/metrics`);
    expect(samples.get('roomstate_slow_consumers_total')).toBe(1);
  });

  it('serves metrics on a separate port when asked, and not on the main one', async () => {
    const fx = await start({ metrics: { port: 0 } });
    const metricsUrl = fx.server.address!.metricsUrl!;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(metricsUrl).not.toContain(`:${fx.port}/`);
    expect((await scrape(metricsUrl)).get('roomstate_connections')).toBe(0);
    expect((await fetch(`${fx.httpUrl}/metrics`)).status).toBe(404);
    expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).toBe(404);
  });

  it('is off unless asked for, and two servers in one process keep their own counts', async () => {
    const off = await start({ metrics: false });
    expect((await fetch(`${off.httpUrl}/metrics`)).status).toBe(404);
    const first = await start();
    const second = await start();
    const room = uniqueRoom();
    await first.connect(room, 'alice');
    expect((await scrape(`${first.httpUrl}/metrics`)).get('roomstate_participants')).toBe(1);
    expect((await scrape(`${second.httpUrl}/metrics`)).get('roomstate_participants')).toBe(0);
  });
});
