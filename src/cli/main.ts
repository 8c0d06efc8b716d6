#!/usr/bin/env node
/**
 * Entry point of the `roomstate` CLI: runs the command tree, turns errors into
 * one line on stderr and the documented exit code (see exit-codes.ts).
 *
 * @packageDocumentation
 */
import { CommanderError } from 'commander';
import { createProgram } from './program.js';
import { CliError, ExitCode } from './exit-codes.js';

async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv as string[]);
    return ExitCode.Ok;
  } catch (error) {
    // Commander already printed its own message (usage errors, --help, --version).
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    if (error instanceof CliError) {
      process.stderr.write(`roomstate: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`roomstate: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.ROOMSTATE_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return ExitCode.Failure;
  }
}

// Exit explicitly: an open socket or timer left by a library must not keep a
// finished command alive. stdout/stderr writes to pipes and files are
// synchronous on POSIX, so nothing printed is lost.
process.exit(await main(process.argv));
