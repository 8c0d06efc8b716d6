/**
 * Regenerates the statechart blocks of README.md ("Seeing the statecharts")
 * from the machines: `npm run readme:machines`. test/diagram/readme.test.ts
 * fails when they are out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readmeMachinesBlock, replaceMachinesBlock } from './readme-block.js';

const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
const readme = await readFile(readmePath, 'utf8');
const updated = replaceMachinesBlock(readme, readmeMachinesBlock());
if (updated === readme) console.log('README.md statecharts are up to date.');
else {
  await writeFile(readmePath, updated);
  console.log('README.md statecharts regenerated.');
}
