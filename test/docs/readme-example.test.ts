/**
 * The README's example is a program a newcomer can run: its block, written
 * as example.ts into a project that depends on roomstate, type-checks
 * (strict) and runs with tsx, printing what the README says it prints.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { codeBlocks } from './markdown.js';
import { createConsumerProject, ROOT, STRICT_CONSUMER_OPTIONS, type ConsumerProject } from '../helpers/consumer-project.js';

const SECTION = 'A server and two clients';
const blocks = codeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter((block) => block.heading === SECTION);
const example = blocks.find((block) => block.lang === 'ts');
const printed = blocks.find((block) => block.lang === 'console');

/** Output with what differs on every run (port, participant ids) replaced by placeholders. */
function normalise(output: string): string[] {
  return output
    .trim()
    .split('\n')
    .map((line) => line.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID'));
}

let project: ConsumerProject | undefined;
afterEach(async () => {
  await project?.dispose();
  project = undefined;
});

describe('the README example', () => {
  it('has a TypeScript block and the output it prints', () => {
    expect(example?.text).toContain("from 'roomstate'");
    expect(printed?.text.split('\n')[0]).toBe('$ npx tsx example.ts');
  });

  it('type-checks in a strict project and prints what the README shows', async () => {
    // The package's own declarations are checked by test/package (skipLibCheck: false); here, the example.
    project = await createConsumerProject({ files: { 'example.ts': example!.text }, compilerOptions: { ...STRICT_CONSUMER_OPTIONS, skipLibCheck: true } });
    const checked = await project.typecheck();
    expect(checked.output).toBe('');
    expect(checked.code).toBe(0);
    const { stdout } = await project.runTs('example.ts');
    expect(normalise(stdout)).toEqual(normalise(printed!.text.split('\n').slice(1).join('\n')));
  });
});
