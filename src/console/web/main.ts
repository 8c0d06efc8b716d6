/**
 * The roomstate console page (served at `/console`, bundled by
 * `npm run build`): asks for an admin token (or takes it once from the
 * address), checks it, then follows the server's feed. Read-only: it never
 * acts in a room.
 */
import { CONSOLE_FEED_PATH, CONSOLE_TOKEN_PROTOCOL, CONSOLE_WHOAMI_PATH, type FeedMessage, type ViewerMessage } from '../feed-protocol.js';
import { h } from './dom.js';
import { CONSOLE_CSS } from './style.js';
import { FeedModel } from './model.js';
import { forgetToken, rememberToken, takeToken } from './token.js';
import { ClientsPanel, SessionPanel, renderRooms } from './views.js';

const RETRY_MS = 2000;

const status = h('span', { id: 'status' }, 'starting');
const login = h('form', { id: 'login', hidden: '' });
const roomsRoot = h('div', { id: 'rooms' });
const sessionRoot = h('div', { id: 'session' });
const clientsRoot = h('section', { id: 'clients' });
const main = h('main', { hidden: '' }, h('section', {}, h('h2', {}, 'Rooms'), roomsRoot), h('section', {}, h('h2', {}, 'Session'), sessionRoot), clientsRoot);

function setStatus(state: 'starting' | 'login' | 'refused' | 'live' | 'disconnected', text: string): void {
  document.body.dataset.status = state;
  status.textContent = text;
}

function showLogin(refusal: string | undefined): void {
  main.hidden = true;
  login.hidden = false;
  const input = h('input', { type: 'password', name: 'token', placeholder: 'admin token (roomstate token --admin)', autocomplete: 'off' }) as HTMLInputElement;
  login.replaceChildren(
    h('p', {}, 'This console needs an admin token: run ', h('code', {}, 'roomstate token --admin'), ' with the server secret.'),
    ...(refusal === undefined ? [] : [h('p', { id: 'refusal' }, `Refused: ${refusal}.`)]),
    input,
    h('p', {}, h('button', { type: 'submit' }, 'Open')),
  );
  login.onsubmit = (event) => {
    event.preventDefault();
    rememberToken(input.value.trim());
    void start();
  };
  setStatus(refusal === undefined ? 'login' : 'refused', refusal === undefined ? 'token needed' : 'refused');
}

function follow(token: string): void {
  const pending = new Map<string, (svg: string) => void>();
  const diagrams = new Map<string, Promise<string>>();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${CONSOLE_FEED_PATH}`;
  const ws = new WebSocket(url, [`${CONSOLE_TOKEN_PROTOCOL}${token}`]);
  const ask = (message: ViewerMessage) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(message));
  const diagram = (machine: string): Promise<string> => {
    let svg = diagrams.get(machine);
    if (svg === undefined) {
      svg = new Promise((resolve) => pending.set(machine, resolve));
      diagrams.set(machine, svg);
      ask({ type: 'diagram', machine });
    }
    return svg;
  };
  const session = new SessionPanel(sessionRoot, diagram);
  const clients = new ClientsPanel(clientsRoot, diagram);
  let selected: string | null = null;
  const model = new FeedModel();
  roomsRoot.onclick = (event) => {
    const row = (event.target as Element).closest('tr[data-participant-id]');
    if (row === null) return;
    selected = row.getAttribute('data-participant-id');
    for (const other of roomsRoot.querySelectorAll('tr.selected')) other.classList.remove('selected');
    row.classList.add('selected');
    void session.select(selected!, row.firstElementChild?.textContent ?? selected!, model.participant(selected!)?.states ?? []);
    ask({ type: 'select', participantId: selected });
  };
  ws.onopen = () => setStatus('live', 'live');
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as FeedMessage;
    if (message.type === 'diagram') pending.get(message.machine)?.(message.svg);
    else if (message.type === 'log') session.log(message.participantId, message.entries, message.reset);
    else {
      model.apply(message);
      const rooms = model.roomViews();
      renderRooms(roomsRoot, rooms, selected);
      for (const room of rooms) for (const p of room.participants) session.update(p.id, p.states);
      clients.render(model.clientViews());
    }
  };
  ws.onclose = () => {
    setStatus('disconnected', 'disconnected; retrying');
    setTimeout(() => void start(), RETRY_MS);
  };
}

async function start(): Promise<void> {
  const token = takeToken();
  if (token === null) return showLogin(undefined);
  setStatus('starting', 'checking token');
  let answer: Response;
  try {
    answer = await fetch(CONSOLE_WHOAMI_PATH, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch {
    setStatus('disconnected', 'server unreachable; retrying');
    setTimeout(() => void start(), RETRY_MS);
    return;
  }
  if (!answer.ok) {
    forgetToken();
    const body = (await answer.json().catch(() => ({}))) as { error?: string };
    return showLogin(body.error ?? `HTTP ${answer.status}`);
  }
  login.hidden = true;
  main.hidden = false;
  follow(token);
}

document.head.append(h('style', {}, CONSOLE_CSS));
document.body.append(h('header', {}, h('h1', {}, 'roomstate console'), status), login, main);
void start();
