/**
 * The messages of the live console: what the server pushes to a viewer page
 * (`/console/feed`), what a viewer may ask for, and what a client inspector
 * sends (`/console/inspect`). Types only, shared with the page's source.
 */

/** One participant as the server holds it. */
export interface ParticipantView {
  readonly id: string;
  readonly room: string;
  readonly name: string;
  readonly role: string;
  readonly enabled: boolean;
  /** Whether its connection dropped and it waits, within the recovery window, for its client to resume it (resumable participants only). */
  readonly detached: boolean;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** The cluster node that holds the connection, when clustered. */
  readonly node: string | null;
  /** Active leaf states of its `participant-session` actor. */
  readonly states: readonly string[];
}

/** One room's user-message traffic. */
export interface RoomTraffic {
  readonly name: string;
  /** User messages (sends and broadcasts) received so far. */
  readonly messages: number;
  /** Their data bytes so far. */
  readonly bytes: number;
  /** Over the last second. */
  readonly messagesPerSecond: number;
  /** Over the last second. */
  readonly bytesPerSecond: number;
}

/** One room: its participants and its user-message traffic. */
export interface RoomView extends RoomTraffic {
  readonly participants: readonly ParticipantView[];
}

/** One event an actor took, and where it went. */
export interface LogEntry {
  /** Milliseconds since the epoch, as the server saw it. */
  readonly at: number;
  readonly event: string;
  readonly states: readonly string[];
}

/** One actor of an inspected client. */
export interface ClientActorView {
  /** The actor's session id in the client's actor system. */
  readonly id: string;
  /** `connection`, `messaging` or `presence`. */
  readonly machine: string;
  /** What it is about: the local participant id, or the remote participant's for presence. */
  readonly label: string;
  /** Who it is about, for people: the participant's name when its context has one; '' otherwise. */
  readonly title: string;
  /** Its participant's attributes, when its context has them (presence); null otherwise. */
  readonly attributes: Readonly<Record<string, unknown>> | null;
  readonly states: readonly string[];
  /** The last events it took, oldest first. */
  readonly log: readonly LogEntry[];
}

/** What changed in an actor since the last push: its current fields and the events it took meanwhile. */
export interface ClientActorDelta extends Omit<ClientActorView, 'log'> {
  /** The inspector connection it belongs to. */
  readonly client: string;
  /** Events taken since the last push, oldest first (append them to the log). */
  readonly entries: readonly LogEntry[];
}

/**
 * What changed since the last push, applied to the state a viewer holds: the
 * first push is a `state`, every later one a `delta`. Rooms and clients
 * removed take their participants and actors with them.
 */
export interface FeedDelta {
  readonly type: 'delta';
  /** Rooms whose traffic changed, or that appeared. */
  readonly rooms: readonly RoomTraffic[];
  readonly removedRooms: readonly string[];
  /** Participants that appeared or changed, whole. */
  readonly participants: readonly ParticipantView[];
  /** Participants gone, with their room. */
  readonly removedParticipants: readonly { readonly id: string; readonly room: string }[];
  /** Inspector connections that appeared or renamed themselves. */
  readonly clients: readonly { readonly id: string; readonly name: string }[];
  readonly removedClients: readonly string[];
  readonly actors: readonly ClientActorDelta[];
  readonly removedActors: readonly { readonly client: string; readonly id: string }[];
}

/** A client connected through `consoleInspector`. */
export interface InspectedClientView {
  /** Server-assigned id of the inspector connection. */
  readonly id: string;
  /** The name the inspector gave, if any. */
  readonly name: string;
  readonly actors: readonly ClientActorView[];
}

/** Server to viewer. */
export type FeedMessage =
  | { readonly type: 'state'; readonly rooms: readonly RoomView[]; readonly clients: readonly InspectedClientView[] }
  | FeedDelta
  | { readonly type: 'diagram'; readonly machine: string; readonly svg: string }
  | { readonly type: 'log'; readonly participantId: string; readonly entries: readonly LogEntry[]; readonly reset: boolean };

/** Viewer to server: read-only requests; nothing here acts in a room. */
export type ViewerMessage =
  | { readonly type: 'select'; readonly participantId: string | null }
  | { readonly type: 'diagram'; readonly machine: string };

/** Client inspector to server. */
export type InspectMessage =
  | { readonly type: 'client'; readonly name: string }
  | { readonly type: 'actor'; readonly id: string; readonly machine: string; readonly label: string }
  | {
      readonly type: 'snapshot';
      readonly id: string;
      readonly event: string;
      readonly value: unknown;
      readonly label: string;
      readonly stopped: boolean;
      /** The participant's name, when the actor's context has one. */
      readonly title?: string;
      /** The participant's attributes, when the actor's context has them. */
      readonly attributes?: Readonly<Record<string, unknown>>;
    };

/** Subprotocol prefix that carries an admin token (`roomstate-console.<jwt>`), for browsers. */
export const CONSOLE_TOKEN_PROTOCOL = 'roomstate-console.';
/** Path of the console page; everything the console serves is under it. */
export const CONSOLE_PATH = '/console';
/** Path that answers who an admin token is (the page checks its token there before it opens the feed). */
export const CONSOLE_WHOAMI_PATH = '/console/api/whoami';
/** Path of the viewer feed websocket. */
export const CONSOLE_FEED_PATH = '/console/feed';
/** Path of the client inspector websocket. */
export const CONSOLE_INSPECT_PATH = '/console/inspect';
