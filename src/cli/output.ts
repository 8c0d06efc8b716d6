/**
 * Writing to stdout/stderr. stdout carries only the command's result (a token,
 * JSON, NDJSON events, the serve listening line) so that it stays parseable;
 * notes for humans go to stderr.
 */

/** Writes one line and resolves once the stream has taken it. */
export function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(`${line}\n`, (error) => (error ? reject(error) : resolve()));
  });
}

/** Writes a note for humans on stderr, prefixed `roomstate: `. */
export function note(message: string): void {
  process.stderr.write(`roomstate: ${message}\n`);
}
