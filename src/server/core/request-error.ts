/**
 * The error a request handler throws to answer with an `error` response.
 */

/** Becomes an `error` response with `text = message` and this protocol code. */
export class RequestError extends Error {
  constructor(
    message: string,
    /** The numeric protocol error code (see `ErrorCode`). */
    readonly protocolCode: number,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}
