/**
 * The accounts endpoint as the official `meshagent` CLI uses it to reach a
 * room: `POST /accounts/projects/{project}/rooms/{room}/connect` with
 * `Authorization: Bearer <API key>`, answered by {@link RoomConnectionInfo}.
 * API keys are tokens with one `api_key` grant `{ project }`. Free of I/O.
 * See docs/interop.md#using-the-official-meshagent-cli.
 */

/** The path prefix of the accounts routes. */
export const ACCOUNTS_PATH = '/accounts/';

/** The one accounts route, as its errors name it. */
export const CONNECT_ROUTE = 'POST /accounts/projects/{project}/rooms/{room}/connect';

/** Name of the grant that API keys carry; its scope is `{ project }`. */
export const API_KEY_GRANT = 'api_key';

/** The project an API key is for unless told otherwise (the CLI sends it from `MESHAGENT_PROJECT_ID`). */
export const DEFAULT_API_KEY_PROJECT = 'roomstate';

/** The answer of the connect route (the CLI's `RoomConnectionInfo`). */
export interface RoomConnectionInfo {
  /** A participant token for the room. */
  readonly jwt: string;
  readonly room_name: string;
  readonly project_id: string;
  /** The room's websocket URL, `ws[s]://host[:port]/rooms/<room>`, to open with `jwt`. */
  readonly room_url: string;
}

/** The connect path of `room` in `project`, both percent-encoded as one segment. */
export function connectPath(project: string, room: string): string {
  return `${ACCOUNTS_PATH}projects/${encodeURIComponent(project)}/rooms/${encodeURIComponent(room)}/connect`;
}

/** The encoded project and room segments of a connect path, or `undefined` for any other path. */
export function parseConnectPath(path: string): { project: string; room: string } | undefined {
  const match = /^\/accounts\/projects\/([^/]+)\/rooms\/([^/]+)\/connect$/.exec(path);
  return match === null ? undefined : { project: match[1], room: match[2] };
}
