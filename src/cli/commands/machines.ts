/**
 * `roomstate machines`: prints the statecharts of roomstate's machines,
 * generated from their XState definitions, as Mermaid, JSON or SVG.
 */
import { Command, Option } from 'commander';
import { MACHINE_NAMES, machineStatechart } from '../../diagram/machines.js';
import { toMermaid } from '../../diagram/mermaid.js';
import type { Statechart } from '../../diagram/statechart.js';
import { usageError } from '../exit-codes.js';
import { writeLine } from '../output.js';

/** Output formats of `roomstate machines`. */
export const MACHINE_FORMATS = ['mermaid', 'json', 'svg'] as const;

type MachineFormat = (typeof MACHINE_FORMATS)[number];

/** Renders one chart in `format`. */
export async function renderMachine(chart: Statechart, format: MachineFormat): Promise<string> {
  if (format === 'json') return JSON.stringify(chart, null, 2);
  if (format === 'svg') {
    // ELK is large: loaded only for SVG, so every other command starts without it.
    const { layoutStatechart, toSvg } = await import('../../diagram/index.js');
    return toSvg(await layoutStatechart(chart));
  }
  return toMermaid(chart);
}

/** Builds the `machines` command. */
export function machinesCommand(): Command {
  return new Command('machines')
    .description("print the statecharts of roomstate's machines, generated from their definitions")
    .argument('[name]', `one machine: ${MACHINE_NAMES.join(', ')} (default: all)`)
    .addOption(new Option('--format <format>', 'output format').choices(MACHINE_FORMATS).default('mermaid'))
    .addHelpText(
      'after',
      `
Example:
  $ roomstate machines participant-session
  stateDiagram-v2
    ...
  $ roomstate machines connection --format svg > connection.svg

  Without a name, mermaid and json print every machine (json as one object
  keyed by name); svg needs a name.`,
    )
    .action(async (name: string | undefined, options: { format: MachineFormat }) => {
      if (name !== undefined && !MACHINE_NAMES.includes(name)) {
        throw usageError(`unknown machine ${JSON.stringify(name)}; expected one of ${MACHINE_NAMES.join(', ')}.`);
      }
      if (name === undefined && options.format === 'svg') throw usageError('--format svg draws one machine: pass its name, e.g. "roomstate machines connection --format svg".');
      const charts = (name === undefined ? MACHINE_NAMES : [name]).map((machine) => machineStatechart(machine)!);
      if (name === undefined && options.format === 'json') {
        await writeLine(process.stdout, JSON.stringify(Object.fromEntries(charts.map((chart) => [chart.name, chart])), null, 2));
        return;
      }
      const texts = await Promise.all(charts.map((chart) => renderMachine(chart, options.format)));
      await writeLine(process.stdout, texts.join('\n\n'));
    });
}
