/**
 * The statechart model is read from the machine definitions: every state and
 * every transition of each exported machine, with guards, delays, tags and
 * actions named; and a machine made up here shows each kind of transition.
 */
import { describe, expect, it } from 'vitest';
import { setup, type AnyStateNode } from 'xstate';
import { MACHINES, MACHINE_NAMES, machineStatechart, statechartOf, toMermaid, transitionTrigger } from '../../src/diagram/index.js';

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allNodes(child as AnyStateNode))];
}

describe('statechartOf', () => {
  it.each(MACHINE_NAMES)('%s: every state node and every event it handles is in the chart', (name) => {
    const machine = MACHINES[name]!;
    const chart = machineStatechart(name)!;
    const nodes = allNodes(machine.root);
    expect(chart.states.map((state) => state.id)).toEqual(nodes.map((node) => node.id));
    for (const node of nodes) {
      const own = chart.transitions.filter((t) => t.source === node.id);
      const events = new Set(own.filter((t) => t.kind === 'event').map((t) => t.event));
      expect([...events].sort()).toEqual(Object.keys(node.config.on ?? {}).sort());
      expect(own.filter((t) => t.kind === 'after').length).toBe(node.after.length);
      expect(own.filter((t) => t.kind === 'always').length).toBe(node.always?.length ?? 0);
      expect(chart.states.find((state) => state.id === node.id)!.tags).toEqual(node.tags);
    }
  });

  it('participant-session: nested states, the final state, tags and actions', () => {
    const chart = machineStatechart('participant-session')!;
    expect(chart.states.map((state) => [state.id, state.type, state.initial])).toEqual([
      ['participantSession', 'compound', 'participantSession.connected'],
      ['participantSession.connected', 'compound', 'participantSession.connected.disabled'],
      ['participantSession.connected.disabled', 'atomic', null],
      ['participantSession.connected.enabled', 'atomic', null],
      ['participantSession.gone', 'final', null],
    ]);
    expect(chart.states[3]!.tags).toEqual(['messagingEnabled']);
    expect(chart.states[4]!.entry).toEqual(['endSession']);
    expect(chart.transitions).toContainEqual({
      source: 'participantSession.connected.disabled',
      targets: ['participantSession.connected.enabled'],
      kind: 'event',
      event: 'messaging.enable',
      guard: null,
      actions: ['sendSnapshot', 'announceEnabled'],
    });
  });

  it('connection: delays and eventless transitions are named with their guards', () => {
    const triggers = (source: string) => machineStatechart('connection')!.transitions.filter((t) => t.source === source).map(transitionTrigger);
    expect(triggers('connection.connecting.attempting')).toEqual(
      expect.arrayContaining(['after handshakeTimeout [reconnectDisabled]', 'always [handshakeComplete]', 'transport.closed [isFinalClose]']),
    );
    expect(triggers('connection.reconnecting')).toContain('after reconnectTimeout [hasReconnectTimeout]');
  });

  it('a machine that changes changes the chart and its Mermaid text', () => {
    const machine = setup({
      guards: { ready: () => true },
      delays: { patience: 1000 },
      actions: { note: () => {} },
    }).createMachine({
      id: 'toy',
      initial: 'a',
      states: {
        a: { tags: ['busy'], on: { go: { target: 'b', guard: 'ready', actions: 'note' }, poke: {} }, after: { patience: 'done' } },
        b: { initial: 'x', states: { x: { always: { target: '#toy.done' } } } },
        done: { type: 'final' },
      },
    });
    expect(toMermaid(statechartOf('toy', machine))).toBe(
      [
        'stateDiagram-v2',
        '  state "a (tags: busy)" as a',
        '  state "b" as b',
        '  state b {',
        '    state "x" as b_x',
        '    [*] --> b_x',
        '  }',
        '  state "done" as done',
        '  [*] --> a',
        '  a --> b: go [ready] / note',
        '  a --> a: poke',
        '  a --> done: after patience',
        '  b_x --> done: always',
        '  done --> [*]',
      ].join('\n'),
    );
  });
});
