/**
 * Stopping long-running commands (`serve`, `listen`) cleanly: the first
 * SIGINT/SIGTERM (or stdout closing under `listen | head`) resolves
 * {@link StopSignal.stopped}; the command then leaves the room or closes the
 * server and exits 0. A second signal while that is under way exits at once
 * with code 130.
 */

/** Why a command was asked to stop. */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'stdout closed';

/** Exit code used when a second signal interrupts a clean shutdown. */
export const FORCED_EXIT_CODE = 130;

/** A pending stop request; see {@link watchForStop}. */
export interface StopSignal {
  /** Resolves with the reason when the process is asked to stop. */
  readonly stopped: Promise<StopReason>;
  /** Removes the handlers installed by {@link watchForStop}. */
  dispose(): void;
}

/**
 * Installs SIGINT/SIGTERM handlers and, with `watchStdout`, an stdout error
 * (`EPIPE`) handler.
 *
 * @example
 * ```ts
 * const stop = watchForStop();
 * const reason = await stop.stopped;
 * await server.close();
 * ```
 */
export function watchForStop(options: { watchStdout?: boolean } = {}): StopSignal {
  let resolveStop!: (reason: StopReason) => void;
  const stopped = new Promise<StopReason>((resolve) => (resolveStop = resolve));
  let stopping = false;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (stopping) {
      process.stderr.write(`roomstate: ${signal} again, exiting now.\n`);
      process.exit(FORCED_EXIT_CODE);
    }
    stopping = true;
    resolveStop(signal);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  // EPIPE (the reader went away, e.g. `listen | head -1`) or any later write
  // to the destroyed stream: nobody can read the output, so stop cleanly.
  const onStdoutError = () => {
    stopping = true;
    resolveStop('stdout closed');
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  if (options.watchStdout) process.stdout.on('error', onStdoutError);
  return {
    stopped,
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (options.watchStdout) process.stdout.off('error', onStdoutError);
    },
  };
}
