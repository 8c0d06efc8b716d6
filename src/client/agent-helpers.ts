/**
 * Typed helpers for agents: waiting for a participant by name, and the
 * messages of one type narrowed by a validator of the user's choice (a type
 * guard, or anything with zod's `safeParse`; zod itself is not imported, so
 * the browser bundle does not carry it).
 *
 * @packageDocumentation
 */
import { Observable, filter, firstValueFrom, map, timeout as within, type OperatorFunction } from 'rxjs';
import { RoomStateError, RoomStateErrorCode } from '../errors.js';
import { ParticipantNotFoundError } from './errors.js';
import type { RemoteParticipant } from './participants.js';
import type { RoomMessage } from './wire.js';

/** A schema with zod's `safeParse` (zod 3 and 4 schemas qualify). */
export interface SafeParser<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/** What narrows a message body to `T`: a type guard, or a schema with `safeParse`. */
export type MessageValidator<T> = ((value: unknown) => value is T) | SafeParser<T>;

/** What {@link MessagingClient.reply} resolves with. */
export type ReplyResult =
  /** The server accepted the reply. */
  | { readonly sent: true }
  /** The sender left before the reply went out (or before the server could deliver it): nothing was sent. */
  | { readonly sent: false; readonly reason: 'sender_left'; readonly participantId: string; readonly error: ParticipantNotFoundError };

/** Arguments of {@link MessagingClient.reply}. */
export interface ReplyOptions {
  /**
   * The reply's type.
   * @defaultValue the type of the message replied to
   */
  type?: string;
  /** The JSON body. */
  message: unknown;
  /** Raw bytes to send along. */
  attachment?: Uint8Array;
  /**
   * Reject with {@link ParticipantNotFoundError} when the sender has left,
   * instead of resolving with `{ sent: false, reason: 'sender_left' }`.
   * @defaultValue false
   */
  rejectIfGone?: boolean;
}

const SENT: ReplyResult = Object.freeze({ sent: true as const });

/**
 * Sends a reply to the sender of `to` with `send`, and turns "the sender
 * has left" into a result (the usual fate of a reply to a one-shot sender
 * such as `roomstate room messaging send`), unless `rejectIfGone`. Other
 * failures (the room closed, messaging disabled) still reject.
 */
export function replyWith(
  send: (options: { to: string; type: string; message: unknown; attachment?: Uint8Array }) => Promise<void>,
  to: Pick<RoomMessage, 'fromParticipantId' | 'type'>,
  options: ReplyOptions,
): Promise<ReplyResult> {
  const { type = to.type, message, attachment, rejectIfGone = false } = options;
  return send({ to: to.fromParticipantId, type, message, ...(attachment === undefined ? {} : { attachment }) }).then(
    () => SENT,
    (error: unknown) => {
      if (rejectIfGone || !(error instanceof ParticipantNotFoundError)) throw error;
      return { sent: false, reason: 'sender_left', participantId: error.participantId, error };
    },
  );
}

/** A received message whose body was validated as `T`. */
export interface TypedRoomMessage<T> extends Omit<RoomMessage, 'message'> {
  /** The body, as the validator accepted it (a schema's parsed output). */
  readonly message: T;
}

/** A body the validator refused: handed to `onInvalid`, never to the stream. */
export interface InvalidMessage {
  readonly message: RoomMessage;
  /** The schema's error; undefined for a type guard. */
  readonly error: unknown;
}

/** Options of {@link MessagingClient.messagesOf}. */
export interface MessagesOfOptions {
  /**
   * Called with each message of the type whose body the validator refused.
   * @defaultValue a warning to the client's logger
   */
  onInvalid?: (invalid: InvalidMessage) => void;
}

type Checked<T> = { ok: true; value: T } | { ok: false; error: unknown };

function check<T>(validator: MessageValidator<T>, value: unknown): Checked<T> {
  if (typeof validator === 'function') return validator(value) ? { ok: true, value } : { ok: false, error: undefined };
  const result = validator.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: result.error };
}

/**
 * Keeps the messages of `type` whose body `validator` accepts, typed as `T`;
 * the others go to `onInvalid`.
 */
export function messagesOfType<T>(type: string, validator: MessageValidator<T>, onInvalid: (invalid: InvalidMessage) => void): OperatorFunction<RoomMessage, TypedRoomMessage<T>> {
  return (source) =>
    new Observable<TypedRoomMessage<T>>((subscriber) =>
      source.subscribe({
        next: (message) => {
          if (message.type !== type) return;
          const checked = check(validator, message.message);
          if (checked.ok) subscriber.next({ ...message, message: checked.value });
          else onInvalid({ message, error: checked.error });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}

/**
 * Resolves with the first participant `find` returns from the participant
 * lists (now or later); rejects with a `ROOM_ERR_TIMEOUT` error after
 * `timeoutMs`, or with `closed()` when the lists end (the room closed).
 */
export function waitForParticipantIn(
  participants$: Observable<readonly RemoteParticipant[]>,
  find: (participants: readonly RemoteParticipant[]) => RemoteParticipant | undefined,
  what: string,
  timeoutMs: number,
  closed: () => Error,
): Promise<RemoteParticipant> {
  const found = participants$.pipe(
    map(find),
    filter((participant): participant is RemoteParticipant => participant !== undefined),
    within({
      first: timeoutMs,
      with: () => {
        throw new RoomStateError(RoomStateErrorCode.Timeout, `${what} did not appear within ${timeoutMs / 1000}s.`);
      },
    }),
  );
  return firstValueFrom(found).catch((error: unknown) => {
    // firstValueFrom rejects with EmptyError when the lists complete first.
    if (error instanceof RoomStateError) throw error;
    throw closed();
  });
}
