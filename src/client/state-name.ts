/**
 * The name a client observable reports for an actor's snapshot: its
 * top-level state, or `closed` once the actor has stopped (both client
 * machines end in a final `closed`).
 */
import type { StateValue } from 'xstate';

/** The top-level state of `snapshot`, `closed` when it is no longer active. */
export function topStateName<TName extends string>(snapshot: { readonly status: string; readonly value: StateValue }): TName | 'closed' {
  if (snapshot.status !== 'active') return 'closed';
  const value = snapshot.value;
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as TName;
}
