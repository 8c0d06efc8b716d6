/**
 * `--help` on every command exits 0 and shows an example; `--version`
 * prints the package version.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { expectExitCode, killAllClis, runCli } from '../helpers/cli.js';

afterEach(killAllClis);

describe('roomstate --help', () => {
  it.each([
    [[], ['serve', 'token', 'room', 'Exit codes:', '4  participant (or room) not found']],
    [['serve'], ['--port', '--secret', 'roomstate listening on ws://127.0.0.1:8080']],
    [['token'], ['--room', '--name', '--role', '--ttl', 'roomstate token --room lobby --name alice --ttl 15m']],
    [['room'], ['messaging']],
    [['agent'], ['serve', 'ask', 'roomstate agent ask --agent echo']],
    [['agent', 'ask'], ['--agent', '--thread', '--steer', '--interrupt', '--timeout', '7 interrupted']],
    [['room', 'messaging'], ['list', 'send', 'broadcast', 'listen']],
    [['room', 'messaging', 'list'], ['--url', '--room', '--token', '--name', '--secret', '--wait', 'ROOMSTATE_URL', 'MESHAGENT_ROOM_URL', '"attributes"']],
    [['room', 'messaging', 'send'], ['--to-participant-id', '--to-participant-name', '--type', '--data', '--attachment-file', 'exit code 4']],
    [['room', 'messaging', 'broadcast'], ['--type', 'chat.broadcast', '--data', '--attachment-file']],
    [['room', 'messaging', 'listen'], ['--type', '--no-presence', '"event":"message"', 'participant_added']],
  ])('%j --help shows an example', async (command, texts) => {
    const exit = await runCli([...command, '--help']);
    expectExitCode(exit, 0);
    expect(exit.stdout).toContain('Example:');
    expect(exit.stdout).toContain('$ roomstate ');
    for (const text of texts) expect(exit.stdout).toContain(text);
  });

  it('serve --help names each environment variable once', async () => {
    const exit = await runCli(['serve', '--help']);
    expectExitCode(exit, 0);
    const options = exit.stdout.slice(0, exit.stdout.indexOf('Example:')).replace(/\s+/g, ' ');
    const names: string[] = options.match(/\b(?:ROOMSTATE_[A-Z_]+|PORT|HOST)\b/g) ?? [];
    expect(names).toContain('ROOMSTATE_SECRET');
    expect(names).toContain('ROOMSTATE_REDIS_CLUSTER');
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const exit = await runCli(['--version']);
    expectExitCode(exit, 0);
    expect(exit.stdout).toBe(`${version}\n`);
  });

  it('an unknown command exits 1 with a hint', async () => {
    const exit = await runCli(['room', 'messaging', 'shout']);
    expectExitCode(exit, 1);
    expect(exit.stderr).toMatch(/unknown command 'shout'/);
  });
});
