/**
 * The statecharts in docs/console.md are what `roomstate machines NAME` prints
 * now: a machine that changes without `npm run readme:machines` fails here.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MACHINE_NAMES } from '../../src/diagram/index.js';
import { machinesBlock, MACHINES_BEGIN, MACHINES_DOC, MACHINES_END } from './machines-doc.js';
import { expectExitCode, expectOneErrorLine, killAllClis, runCli } from '../helpers/cli.js';

const page = readFileSync(new URL(`../../${MACHINES_DOC}`, import.meta.url), 'utf8');

afterEach(killAllClis);

describe('the statecharts in docs/console.md', () => {
  it('are up to date (run `npm run readme:machines` when this fails)', () => {
    const begin = page.indexOf(MACHINES_BEGIN);
    const end = page.indexOf(MACHINES_END);
    expect(begin).toBeGreaterThan(-1);
    expect(page.slice(begin, end + MACHINES_END.length)).toBe(machinesBlock());
  });

  it.each(MACHINE_NAMES)('match `roomstate machines %s` run as a process', async (name) => {
    const exit = await runCli(['machines', name]);
    expectExitCode(exit, 0);
    expect(page).toContain(`\`\`\`mermaid\n${exit.stdout.trimEnd()}\n\`\`\``);
  });
});

describe('roomstate machines', () => {
  it('prints an SVG drawn from the ELK layout, one group per state', async () => {
    const exit = await runCli(['machines', 'participant-session', '--format', 'svg']);
    expectExitCode(exit, 0);
    expect(exit.stdout).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const id of ['participantSession.connected.disabled', 'participantSession.connected.enabled', 'participantSession.gone']) {
      expect(exit.stdout).toContain(`data-state="${id}"`);
    }
  });

  it('prints every machine as one JSON object', async () => {
    const exit = await runCli(['machines', '--format', 'json']);
    expectExitCode(exit, 0);
    expect(Object.keys(JSON.parse(exit.stdout) as object)).toEqual([...MACHINE_NAMES]);
  });

  it('refuses an unknown machine with exit code 1', async () => {
    expectOneErrorLine(await runCli(['machines', 'nope']), 1, 'roomstate: unknown machine "nope"; expected one of connection, messaging, presence, participant-session, agent-turn, agent-thread.');
  });
});
