/**
 * The machines roomstate exports, by the names the CLI, the docs and the
 * console use for them.
 */
import type { AnyStateMachine } from 'xstate';
import { agentThreadMachine, agentTurnMachine, connectionMachine, messagingMachine, participantSessionMachine, presenceMachine } from '../../machines/index.js';
import { statechartOf, type Statechart } from './statechart.js';

/** The machines by name, in the order they are shown. */
export const MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  connection: connectionMachine,
  messaging: messagingMachine,
  presence: presenceMachine,
  'participant-session': participantSessionMachine,
  'agent-turn': agentTurnMachine,
  'agent-thread': agentThreadMachine,
};

/** The machine names, in order. */
export const MACHINE_NAMES: readonly string[] = Object.keys(MACHINES);

/** The statechart of the machine called `name`; undefined for an unknown name. */
export function machineStatechart(name: string): Statechart | undefined {
  const machine = MACHINES[name];
  return machine === undefined ? undefined : statechartOf(name, machine);
}

/** The name of the machine whose root id is `id` (e.g. `participantSession`), if it is one of ours. */
export function machineNameById(id: string): string | undefined {
  return MACHINE_NAMES.find((name) => MACHINES[name]!.id === id);
}
