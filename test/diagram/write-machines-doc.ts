/**
 * Regenerates the statechart blocks of docs/console.md ("The machines") from
 * the machines: `npm run readme:machines`. test/diagram/machines-doc.test.ts
 * fails when they are out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MACHINES_DOC, machinesBlock, replaceMachinesBlock } from './machines-doc.js';

const path = fileURLToPath(new URL(`../../${MACHINES_DOC}`, import.meta.url));
const page = await readFile(path, 'utf8');
const updated = replaceMachinesBlock(page, machinesBlock());
if (updated === page) console.log(`${MACHINES_DOC} statecharts are up to date.`);
else {
  await writeFile(path, updated);
  console.log(`${MACHINES_DOC} statecharts regenerated.`);
}
