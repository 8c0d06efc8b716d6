/**
 * The one bridge from XState actors to RxJS. XState v5 actors are hot: a new
 * subscriber does not get the current snapshot, so {@link select} starts
 * every subscription with `getSnapshot()` and replays the latest value.
 *
 * @packageDocumentation
 */
import { Observable, defer, distinctUntilChanged, from, map, shareReplay, startWith } from 'rxjs';
import type { ActorRef, EventObject, Snapshot } from 'xstate';

/**
 * A replayed, deduplicated view of an actor's snapshots.
 *
 * `defer -> from(actor) -> startWith(getSnapshot()) -> map(selector) ->
 * distinctUntilChanged -> shareReplay({ bufferSize: 1, refCount: true })`.
 * Completes when the actor stops; errors when the actor errors.
 *
 * @example
 * ```ts
 * const state$ = select(actor, (snapshot) => snapshot.value);
 * ```
 */
export function select<TSnapshot extends Snapshot<unknown>, T>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  actor: ActorRef<TSnapshot, any, any>,
  selector: (snapshot: TSnapshot) => T,
  compare: (previous: T, current: T) => boolean = Object.is,
): Observable<T> {
  return defer(() => from(actor as unknown as Observable<TSnapshot>).pipe(startWith<TSnapshot, TSnapshot[]>(actor.getSnapshot()))).pipe(
    map(selector),
    distinctUntilChanged(compare),
    shareReplay({ bufferSize: 1, refCount: true }),
  );
}

/**
 * The events of one type an actor emits (`emit()` in the machine), as a
 * hot observable; unsubscribing removes the `actor.on()` listener.
 */
export function emitted<TEmitted extends EventObject, TType extends TEmitted['type']>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  actor: ActorRef<any, any, TEmitted>,
  type: TType,
): Observable<Extract<TEmitted, { type: TType }>> {
  return new Observable((subscriber) => {
    const subscription = actor.on(type, (event) => subscriber.next(event as Extract<TEmitted, { type: TType }>));
    return () => subscription.unsubscribe();
  });
}
