/**
 * Where the CLI finds the HS256 secret shared by `serve`, `token` and the
 * messaging commands: `--secret`, else `ROOMSTATE_SECRET`.
 */
import { randomBytes } from 'node:crypto';

/** Environment variable holding the shared secret. */
export const SECRET_ENV = 'ROOMSTATE_SECRET';

/** The secret from the option, else the environment; `undefined` if neither. */
export function secretFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (option) return option;
  const fromEnv = env[SECRET_ENV];
  return fromEnv ? fromEnv : undefined;
}

/** A fresh random secret: 32 bytes from the OS CSPRNG, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}
