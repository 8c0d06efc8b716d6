/**
 * A console websocket for tests (`/console/feed` or `/console/inspect`): the
 * messages it got, the feed folded into a {@link FeedModel} as the page does
 * (every push recorded as the rooms and clients it leaves), how it closed,
 * or the HTTP status of a refused upgrade.
 */
import WebSocket from 'ws';
import type { FeedMessage, InspectedClientView, RoomView } from '../../../src/console/feed-protocol.js';
import { FeedModel } from '../../../src/console/web/model.js';
import { Recorder } from '../../helpers/recorder.js';

/** An open console socket. */
export interface ConsoleSocket {
  readonly ws: WebSocket;
  /** Every message, parsed. */
  readonly messages: Recorder<FeedMessage>;
  /** After each state or delta push: what the page would show. */
  readonly views: Recorder<{ rooms: RoomView[]; clients: InspectedClientView[] }>;
  /** Text bytes of each push received, in order. */
  readonly sizes: number[];
  /** Close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** A refused upgrade. */
export interface ConsoleRefusal {
  readonly status: number;
  readonly reason: string;
}

/** Every console socket opened, for {@link closeConsoleSockets}. */
const opened = new Set<WebSocket>();

/** Opens a console websocket with an admin token (subprotocol, as browsers do); resolves once open, or with the refusal. */
export function openConsole(url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<ConsoleSocket | ConsoleRefusal> {
  const ws = new WebSocket(url, token === undefined ? [] : [`roomstate-console.${token}`], { headers });
  opened.add(ws);
  const messages = new Recorder<FeedMessage>();
  const views = new Recorder<{ rooms: RoomView[]; clients: InspectedClientView[] }>();
  const sizes: number[] = [];
  const model = new FeedModel();
  ws.on('message', (data) => {
    const text = String(data);
    const message = JSON.parse(text) as FeedMessage;
    messages.push(message);
    if (message.type === 'state' || message.type === 'delta') {
      sizes.push(Buffer.byteLength(text));
      model.apply(message);
      views.push({ rooms: model.roomViews(), clients: model.clientViews() });
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, views, sizes, closed }));
    ws.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0, reason: response.statusMessage ?? '' }));
    ws.once('error', (error) => reject(error));
  });
}

/** Opens a console websocket that must open. */
export async function openedConsole(url: string, token: string, headers?: Record<string, string>): Promise<ConsoleSocket> {
  const result = await openConsole(url, token, headers);
  if ('status' in result) throw new Error(`console socket refused: ${result.status} ${result.reason}`);
  return result;
}

/** Terminates every console socket opened so far. */
export function closeConsoleSockets(): void {
  for (const ws of opened) ws.terminate();
  opened.clear();
}
