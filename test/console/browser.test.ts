/**
 * The live console in real headless Chromium against a real server with
 * real clients (the official 0.39.9 client and ours): the page loads without
 * console errors, participants come and go, a selected participant's session
 * statechart follows it from enabled to disabled, a client using the console
 * inspector shows its machines, and a participant token is refused. At
 * 1440 px the console reads: charts at their own size (labels ≥ 10 px) with
 * the current state in view, the final state of a participant that left
 * highlighted, presence titled by name, attributes as key/value rows that
 * wrap between words. Screenshots of each step go to the system temp dir.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAdminToken } from '../../src/auth/token.js';
import { RoomClient } from '../../src/client/node.js';
import { consoleInspector, type ConsoleInspector } from '../../src/inspect/node.js';
import { installProcessGuard, OfficialPeer, type ProcessGuard } from '../helpers/official-client.js';
import { uniqueRoom, useServer } from '../helpers/server.js';
import { chromiumAvailability, launchChromium, type Chromium } from './helpers/chromium.js';

const availability = chromiumAvailability();
/** Generous: the machine is shared and loaded. */
const WAIT = { timeout: 60_000 };

/** The keys of an attribute list, the words of its values split across lines, and the most lines one value takes. */
function wrappingOf(list: Locator): Promise<{ keys: (string | null)[]; broken: string[]; mostLines: number }> {
  return list.evaluate((dl) => {
    const broken: string[] = [];
    let mostLines = 0;
    for (const dd of dl.querySelectorAll('dd')) {
      const text = dd.firstChild!;
      const lines = new Set<number>();
      for (const word of text.textContent!.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(text, word.index);
        range.setEnd(text, word.index + word[0].length);
        const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
        if (tops.size > 1) broken.push(word[0]);
        for (const top of tops) lines.add(top);
      }
      mostLines = Math.max(mostLines, lines.size);
    }
    return { keys: [...dl.querySelectorAll('dt')].map((dt) => dt.textContent), broken, mostLines };
  });
}

describe.skipIf(!availability.run)('the console in Chromium', () => {
  const fx = useServer({ console: true });
  let browser: Chromium;
  let admin: string;
  let guard: ProcessGuard;
  const room = uniqueRoom('console');
  const clients: RoomClient[] = [];
  const inspectors: ConsoleInspector[] = [];

  const client = async (name: string, inspect?: ConsoleInspector): Promise<RoomClient> => {
    const created = new RoomClient({ url: fx.url, room, token: await fx.token(room, name), ...(inspect ? { inspect } : {}) });
    clients.push(created);
    await created.start();
    return created;
  };
  const row = (name: string) => browser.page.locator('tr[data-participant-id]', { has: browser.page.locator('td:first-child', { hasText: new RegExp(`^${name}$`) }) });

  beforeAll(async () => {
    guard = installProcessGuard();
    admin = await mintAdminToken({ secret: fx.secret });
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const inspector of inspectors) inspector.close();
    await Promise.all(clients.map((c) => c.close()));
    await browser?.close();
    guard?.dispose();
  });

  it('refuses a participant token and drops it from the address bar', async () => {
    const participant = await fx.token(room, 'mallory');
    await browser.page.goto(`${fx.httpUrl}/console#token=${participant}`);
    await browser.page.locator('body[data-status="refused"]').waitFor(WAIT);
    expect(await browser.page.locator('#refusal').textContent()).toBe('Refused: token has no admin grant.');
    expect(browser.page.url()).toBe(`${fx.httpUrl}/console`);
    await browser.screenshot('1-participant-token-refused');
  });

  it('loads with an admin token, without console errors, and drops the token from the address bar', async () => {
    browser.errors.length = 0;
    await browser.page.goto(`${fx.httpUrl}/console?token=${admin}`);
    await browser.page.locator('body[data-status="live"]').waitFor(WAIT);
    expect(browser.page.url()).toBe(`${fx.httpUrl}/console`);
    await browser.page.getByText('No participants.').waitFor(WAIT);
    await browser.screenshot('2-console-empty');
    expect(browser.errors).toEqual([]);
  });

  it('shows participants as the official client and ours join, enable, change attributes, send and leave', async () => {
    const official = await OfficialPeer.connect({ baseUrl: fx.url, room, name: 'official-ann', secret: fx.secret });
    const bob = await client('our-bob');
    await row('official-ann').waitFor(WAIT);
    await row('our-bob').waitFor(WAIT);
    expect(await row('our-bob').locator('td').nth(2).textContent()).toBe(bob.localParticipant.id);
    expect(await row('our-bob').getAttribute('data-enabled')).toBe('false');

    await official.enable();
    await bob.messaging.enable();
    await browser.page.locator('tr[data-enabled="true"]').nth(1).waitFor(WAIT);
    bob.localParticipant.setAttributes({ status: 'busy' });
    await row('our-bob').locator('.attributes div', { has: browser.page.locator('dt', { hasText: /^status$/ }) }).locator('dd', { hasText: /^busy$/ }).waitFor(WAIT);
    for (let i = 0; i < 3; i++) await bob.messaging.broadcastMessage({ type: 'chat', message: { i } });
    await browser.page.locator(`[data-room="${room}"] .rates[data-messages="3"]`).waitFor(WAIT);

    // Attributes are key/value rows; values wrap between words, never inside one.
    const motto = 'attributes wrap between words and never inside them however long the sentence grows in this narrow column';
    bob.localParticipant.setAttributes({ motto, profile: { city: 'Amsterdam', languages: ['en', 'nl', 'fr'], verified: true } });
    const rows = row('our-bob').locator('dl.attributes');
    await rows.locator('dd', { hasText: /^\{ "city": "Amsterdam", "languages": \[ "en", "nl", "fr" \], "verified": true \}$/ }).waitFor(WAIT);
    const wrapping = await wrappingOf(rows);
    expect(wrapping.keys).toEqual(['name', 'status', 'motto', 'profile']);
    expect(wrapping.broken).toEqual([]);
    // The motto does wrap: the check above is about something.
    expect(wrapping.mostLines).toBeGreaterThan(1);
    await browser.screenshot('3-participants');

    await official.leave();
    await row('official-ann').waitFor({ state: 'detached', ...WAIT });
    expect(await row('our-bob').count()).toBe(1);
    expect(browser.errors).toEqual([]);
  });

  it('draws the selected participant session statechart, moving from enabled to disabled', async () => {
    const bob = clients[0]!;
    await row('our-bob').click();
    const enabled = browser.page.locator('#session-diagram [data-state="participantSession.connected.enabled"]');
    const disabled = browser.page.locator('#session-diagram [data-state="participantSession.connected.disabled"]');
    await browser.page.locator('#session-diagram [data-state].rs-active').waitFor(WAIT);
    expect(await enabled.getAttribute('class')).toContain('rs-active');
    await browser.page.locator('#session-log', { hasText: 'messaging.enable' }).waitFor(WAIT);
    await browser.screenshot('4-session-enabled');

    await bob.messaging.disable();
    await browser.page.locator('#session-diagram [data-state="participantSession.connected.disabled"].rs-active').waitFor(WAIT);
    expect(await enabled.getAttribute('class')).not.toContain('rs-active');
    expect(await disabled.getAttribute('class')).toContain('rs-active');
    await browser.page.locator('#session-log', { hasText: 'messaging.disable' }).waitFor(WAIT);
    await browser.screenshot('5-session-disabled');
    expect(browser.errors).toEqual([]);
  });

  it('shows a client that uses the console inspector with its connection, messaging and presence machines', async () => {
    const bob = clients[0]!;
    await bob.messaging.enable();
    const inspector = consoleInspector({ url: fx.url, token: admin, name: 'inspected-carol' });
    inspectors.push(inspector);
    const carol = await client('inspected-carol', inspector);
    await carol.messaging.enable();
    const card = browser.page.locator('[data-client]', { hasText: 'client inspected-carol' });
    await card.waitFor(WAIT);
    await card.locator('[data-client-actor="connection"] [data-state="connection.connected"].rs-active').waitFor(WAIT);
    await card.locator('[data-client-actor="messaging"] [data-state="messaging.enabled"].rs-active').waitFor(WAIT);
    // One presence actor per remote participant: bob.
    const presence = card.locator('[data-client-actor="presence"]', { hasText: bob.localParticipant.id });
    await presence.locator('[data-state="presence.online"].rs-active').waitFor(WAIT);
    // Presence is titled by the participant's name (the id beside it), its attributes as rows.
    expect(await presence.locator('h4 .title').textContent()).toBe('of our-bob');
    expect(await presence.locator('.actor-attributes dt').allTextContents()).toEqual(['name', 'status', 'motto', 'profile']);

    // Long attribute values (a long sentence, and a token with no break in it) wrap in their rows; the card does not
    // grow past the window, so at 1440 px the client's charts are drawn at ≥ 80% of their size, every label ≥ 10 px,
    // and the current state in view, both in the chart's frame and in the window.
    const longMotto = Array.from({ length: 6 }, (_, i) => `sentence ${i} of a motto that keeps going past the width of the card`).join(', ');
    const longToken = 'k'.repeat(600);
    bob.localParticipant.setAttributes({ motto: longMotto, token: longToken });
    await presence.locator('.actor-attributes dd', { hasText: longMotto }).waitFor(WAIT);
    await presence.locator('.actor-attributes dd', { hasText: longToken }).waitFor(WAIT);
    for (const machine of ['connection', 'messaging']) {
      const svg = card.locator(`[data-client-actor="${machine}"] svg.rs-statechart`);
      const seen = await svg.evaluate((chart: SVGSVGElement) => {
        const scale = chart.getBoundingClientRect().width / chart.viewBox.baseVal.width;
        const smallest = Math.min(...[...chart.querySelectorAll('text')].map((text) => parseFloat(getComputedStyle(text).fontSize) * scale));
        const view = chart.parentElement!.getBoundingClientRect();
        const active = chart.querySelector('.rs-active:not(.rs-composite)')!.getBoundingClientRect();
        const inView = active.left >= view.left && active.right <= view.right && active.top >= view.top && active.bottom <= view.bottom;
        const inWindow = active.left >= 0 && active.right <= window.innerWidth && view.right <= window.innerWidth;
        const where = JSON.stringify({ view: [view.left, view.top, view.right, view.bottom], active: [active.left, active.top, active.right, active.bottom] });
        return { scale, smallest, inView, inWindow, where, viewport: window.innerWidth, pageWidth: document.documentElement.scrollWidth };
      });
      expect(seen.viewport).toBe(1440);
      expect(seen.pageWidth, 'the page scrolls sideways').toBeLessThanOrEqual(1440);
      expect(seen.scale).toBeGreaterThanOrEqual(0.8);
      expect(seen.smallest).toBeGreaterThanOrEqual(10);
      expect(seen.inView, `${machine}: ${seen.where}`).toBe(true);
      expect(seen.inWindow, `${machine}: ${seen.where}`).toBe(true);
    }
    // The same rows as in the participants table: the motto wraps between words only; the token, one word, wraps within its row.
    const presenceWrapping = await wrappingOf(presence.locator('.actor-attributes dl.attributes'));
    expect(presenceWrapping.broken).toEqual([longToken]);
    expect(presenceWrapping.mostLines).toBeGreaterThan(1);
    // The user zooms out and back.
    const connection = card.locator('[data-client-actor="connection"]');
    const width = async () => Number(await connection.locator('svg.rs-statechart').getAttribute('width'));
    const full = await width();
    await connection.locator('button[data-zoom="−"]').click();
    expect(await connection.locator('.zoom-level').textContent()).toBe('80%');
    expect(await width()).toBeLessThan(full);
    await connection.locator('button[data-zoom="100%"]').click();
    expect(await width()).toBe(full);
    await browser.screenshot('6-inspected-client');

    await bob.messaging.disable();
    await presence.waitFor({ state: 'detached', ...WAIT });
    expect(browser.errors).toEqual([]);
  });

  it('highlights the final state of a participant that left, as its log says', async () => {
    const erin = await client('our-erin');
    await erin.messaging.enable();
    await row('our-erin').click();
    await browser.page.locator('#session-diagram [data-state="participantSession.connected.enabled"].rs-active').waitFor(WAIT);
    await erin.close();
    await browser.page.locator('#session-log div', { hasText: /transport\.closed +→ gone$/ }).waitFor(WAIT);
    await browser.page.locator('#session-diagram [data-state="participantSession.gone"].rs-active').waitFor(WAIT);
    expect(await browser.page.locator('#session-diagram .rs-active').evaluateAll((active) => active.map((state) => state.getAttribute('data-state')))).toEqual(['participantSession.gone']);
    await browser.screenshot('6b-session-gone');
    expect(browser.errors).toEqual([]);
  });

  it('shows a client running in a browser page with the console inspector on the global WebSocket', async () => {
    const bundle = await build({
      stdin: {
        contents: `
          import { RoomClient } from './src/client/index.ts';
          import { consoleInspector } from './src/inspect/index.ts';
          globalThis.startInspected = async (url, room, token, admin) => {
            const inspect = consoleInspector({ url, token: admin, name: 'browser-dave' });
            const client = new RoomClient({ url, room, token, inspect });
            await client.start();
            await client.messaging.enable();
            return client.localParticipant.id;
          };`,
        resolveDir: fileURLToPath(new URL('../..', import.meta.url)),
        loader: 'ts',
      },
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'iife',
      logLevel: 'silent',
    });
    const app = await browser.context.newPage();
    const appErrors: string[] = [];
    app.on('pageerror', (error) => appErrors.push(error.message));
    await app.goto(`${fx.httpUrl}/`);
    await app.addScriptTag({ content: bundle.outputFiles[0]!.text });
    const id = await app.evaluate(
      ([url, roomName, token, adminToken]) => (globalThis as unknown as { startInspected(...args: string[]): Promise<string> }).startInspected(url!, roomName!, token!, adminToken!),
      [fx.url, room, await fx.token(room, 'browser-dave'), admin],
    );
    const card = browser.page.locator('[data-client]', { hasText: 'client browser-dave' });
    await card.locator('[data-client-actor="connection"] [data-state="connection.connected"].rs-active').waitFor(WAIT);
    await card.locator('[data-client-actor="messaging"] [data-state="messaging.enabled"].rs-active').waitFor(WAIT);
    expect(await card.locator('[data-client-actor="connection"] .label').textContent()).toBe(id);
    await row('browser-dave').waitFor(WAIT);
    await browser.screenshot('7-browser-client');
    await app.close();
    // The page closed: its client and its inspector are gone from the console.
    await card.waitFor({ state: 'detached', ...WAIT });
    await row('browser-dave').waitFor({ state: 'detached', ...WAIT });
    expect(appErrors).toEqual([]);
    expect(browser.errors).toEqual([]);
    expect(guard.errors).toEqual([]);
  });
});
