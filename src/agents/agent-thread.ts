/**
 * The caller's side of a thread: finding the agent, opening the thread,
 * routing the agent's messages for it to its turns, and following the
 * agent's presence (its turns end when it leaves; the thread is reopened
 * when an agent of the same name comes back, as MeshAgent's caller does).
 * Built on the room client's public messaging API only.
 *
 * @packageDocumentation
 */
import { Observable, Subject, Subscription, filter, firstValueFrom, map, merge, timeout as within } from 'rxjs';
import type { ActorOptions, AnyActorLogic } from 'xstate';
import { RoomStateError, RoomStateErrorCode, ValidationError, describeValue } from '../errors.js';
import type { RoomClient } from '../client/room-client.js';
import type { RemoteParticipant } from '../client/participants.js';
import { AGENT_MESSAGE, AgentMessageType, SUPPORTS_AGENT_MESSAGES, agentMessage, decodeAgentMessage, newMessageId, type AgentContent, type AgentWireMessage } from '../protocol/agent-turns.js';
import { AgentTurn, type TurnTimeouts } from './agent-turn.js';

/** Default time {@link findAgent} waits for the agent, as MeshAgent's caller does. */
export const FIND_AGENT_TIMEOUT_MS = 30_000;

/** Whether `participant` is an agent serving turns, named `name` when given. */
export function isAgent(participant: RemoteParticipant, name?: string): boolean {
  return participant.getAttribute(SUPPORTS_AGENT_MESSAGES) === true && (name === undefined || participant.getAttribute('name') === name);
}

/**
 * Resolves with the participant named `name` that serves agent turns
 * (attribute `supports_agent_messages: true`), now or once it appears.
 * Rejects with a `ROOM_ERR_TIMEOUT` {@link RoomStateError} after `timeout`
 * ms. Messaging must be enabled (presence is empty otherwise).
 *
 * @example
 * ```ts
 * await room.messaging.enable();
 * const agent = await findAgent(room, 'assistant');
 * ```
 */
export function findAgent(room: RoomClient, name: string, options: { /** @defaultValue 30000 */ timeout?: number } = {}): Promise<RemoteParticipant> {
  const timeout = options.timeout ?? FIND_AGENT_TIMEOUT_MS;
  if (!(Number.isFinite(timeout) && timeout > 0)) return Promise.reject(new ValidationError('timeout', `timeout must be a positive number of ms, got ${describeValue(timeout)}.`));
  // participants$ follows membership only; attribute changes (an agent starting to serve) come apart.
  const found = merge(room.messaging.participants$, room.messaging.participantAttributesUpdated$).pipe(
    map(() => room.messaging.getParticipants().find((participant) => isAgent(participant, name))),
    filter((participant): participant is RemoteParticipant => participant !== undefined),
    within({
      first: timeout,
      with: () => {
        throw new RoomStateError(RoomStateErrorCode.Timeout, `no agent named ${JSON.stringify(name)} (a participant with supports_agent_messages) appeared within ${timeout / 1000}s.`);
      },
    }),
  );
  return firstValueFrom(found).catch((error: unknown) => {
    if (error instanceof RoomStateError) throw error;
    throw new RoomStateError(RoomStateErrorCode.Closed, `the room closed before the agent ${JSON.stringify(name)} appeared.`);
  });
}

/** What a turn is started with. */
export interface TurnInput extends TurnTimeouts {
  /** The text of the input. */
  text?: string;
  /** Files, as URLs (or `{url, name}`), after the text. */
  files?: readonly (string | { readonly url: string; readonly name?: string })[];
  /** Content items after the text and files, as the protocol has them. */
  content?: readonly AgentContent[];
  /** Extra `turn.start` fields (`model`, `backend`, `provider`, `instructions`, `turn_id`, …), sent as given. */
  fields?: Readonly<Record<string, unknown>>;
}

/** Options of {@link openThread}. */
export interface OpenThreadOptions {
  /** The thread's id (a path, e.g. `.threads/support/123`); a fresh one when absent. */
  threadId?: string;
  /** An XState inspector for the turn actors (e.g. roomstate/inspect's consoleInspector). */
  inspect?: ActorOptions<AnyActorLogic>['inspect'];
}

/** A fresh thread id, `.threads/<uuid>`. */
export function newThreadId(): string {
  return `.threads/${newMessageId()}`;
}

/** One thread with one agent, opened with {@link openThread}. */
export class AgentThread {
  /** The thread's id. */
  readonly threadId: string;
  /** Every agent message of this thread, decoded, including other participants' turns. */
  readonly messages$: Observable<AgentWireMessage>;

  private agent: RemoteParticipant;
  private readonly agentName: string | undefined;
  private readonly turns = new Set<AgentTurn>();
  private readonly subscription = new Subscription();
  private readonly messages = new Subject<AgentWireMessage>();
  private closed = false;

  constructor(
    private readonly room: RoomClient,
    agent: RemoteParticipant,
    private readonly options: OpenThreadOptions = {},
  ) {
    this.agent = agent;
    const name = agent.getAttribute('name');
    this.agentName = typeof name === 'string' ? name : undefined;
    this.threadId = options.threadId ?? newThreadId();
    this.messages$ = this.messages.asObservable();
    const messaging = room.messaging;
    this.subscription.add(
      messaging.messages$.subscribe({
        next: (message) => {
          if (message.type !== AGENT_MESSAGE || message.fromParticipantId !== this.agent.id) return;
          const decoded = decodeAgentMessage(message.message);
          if (decoded === undefined || decoded.thread_id !== this.threadId) return;
          this.messages.next(decoded);
          for (const turn of [...this.turns]) if (turn.handle(decoded)) break;
        },
        complete: () => this.agentGone(),
      }),
    );
    this.subscription.add(messaging.participantRemoved$.subscribe((participant) => participant.id === this.agent.id && this.agentGone()));
    this.subscription.add(
      messaging.participantAttributesUpdated$.subscribe(({ participant }) => {
        // An agent that stops serving clears supports_agent_messages.
        if (participant.id === this.agent.id && !isAgent(participant)) this.agentGone();
        else if (participant.id !== this.agent.id && this.comesBack(participant)) this.reopen(participant);
      }),
    );
    this.subscription.add(messaging.participantAdded$.subscribe((participant) => this.comesBack(participant) && this.reopen(participant)));
  }

  /** The agent participant the thread talks to. */
  get participant(): RemoteParticipant {
    return this.agent;
  }

  /** Sends `thread.open`: from now on the agent sends this participant the thread's events. */
  open(): Promise<void> {
    return this.send(agentMessage(AgentMessageType.ThreadOpen, { thread_id: this.threadId }));
  }

  /**
   * Starts a turn with text and files; the turn's events start coming at once.
   *
   * @example
   * ```ts
   * const turn = thread.startTurn({ text: 'hello', files: ['https://example.com/a.png'] });
   * turn.text$.subscribe((delta) => process.stdout.write(delta));
   * const { text } = await turn.done;
   * ```
   */
  startTurn(input: TurnInput): AgentTurn {
    if (this.closed) throw new RoomStateError(RoomStateErrorCode.Closed, `thread ${JSON.stringify(this.threadId)} is closed.`);
    const content: AgentContent[] = [];
    if (input.text !== undefined) content.push({ type: 'text', text: input.text });
    for (const file of input.files ?? []) content.push(typeof file === 'string' ? { type: 'file', url: file } : { type: 'file', ...file });
    content.push(...(input.content ?? []));
    if (content.length === 0) throw new ValidationError('text', 'a turn needs some input: pass text, files or content.');
    const start = agentMessage(AgentMessageType.TurnStart, { ...input.fields, thread_id: this.threadId, content });
    const link = {
      threadId: this.threadId,
      inspect: this.options.inspect,
      send: (body: Record<string, unknown>) => this.send(body),
      forget: (turn: AgentTurn) => this.turns.delete(turn),
    };
    const turn = new AgentTurn(link, start, input);
    this.turns.add(turn);
    return turn;
  }

  /** Sends `thread.close` and stops listening; running turns end as if the agent had left. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscription.unsubscribe();
    for (const turn of [...this.turns]) turn.agentLeft();
    await this.send(agentMessage(AgentMessageType.ThreadClose, { thread_id: this.threadId })).catch(() => undefined);
  }

  private send(message: Record<string, unknown>): Promise<void> {
    return this.room.messaging.sendMessage({ to: this.agent, type: AGENT_MESSAGE, message });
  }

  private agentGone(): void {
    for (const turn of [...this.turns]) turn.agentLeft();
  }

  private comesBack(participant: RemoteParticipant): boolean {
    return !this.closed && this.agentName !== undefined && participant.id !== this.agent.id && isAgent(participant, this.agentName);
  }

  private reopen(participant: RemoteParticipant): void {
    this.agent = participant;
    this.open().catch(() => undefined);
  }
}

/**
 * Opens a thread with an agent (a participant, or its name: then
 * {@link findAgent} waits for it) and resolves once `thread.open` is sent.
 *
 * @example
 * ```ts
 * const thread = await openThread(room, 'assistant');
 * const turn = thread.startTurn({ text: 'summarise the meeting' });
 * turn.text$.subscribe((delta) => console.log(delta));
 * await turn.done;
 * ```
 */
export async function openThread(room: RoomClient, agent: RemoteParticipant | string, options: OpenThreadOptions & { findTimeout?: number } = {}): Promise<AgentThread> {
  const participant = typeof agent === 'string' ? await findAgent(room, agent, { timeout: options.findTimeout }) : agent;
  const thread = new AgentThread(room, participant, options);
  try {
    await thread.open();
  } catch (error) {
    await thread.close();
    throw error;
  }
  return thread;
}
