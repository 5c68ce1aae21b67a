import pino from 'pino';

/** What the library needs of a logger: pino's signature, so a host's pino (or compatible) logger fits. */
export type Logger = Pick<pino.Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** A pino logger (level from LOG_LEVEL), to stdout or to another file descriptor (2: stderr). */
export function createLogger(options: pino.LoggerOptions = {}, fd?: number): pino.Logger {
  const settings = { level: process.env.LOG_LEVEL ?? 'info', ...options };
  return fd === undefined ? pino(settings) : pino(settings, pino.destination({ fd, sync: true }));
}

/** How logs name a user: never the full email, only `user@<email domain>` (docs/specification.md §4). */
export function userLabel(email: string | null | undefined): string {
  const at = email?.lastIndexOf('@') ?? -1;
  if (!email || at < 0) return 'user@unknown';
  return `user@${
    email
      .slice(at + 1)
      .trim()
      .toLowerCase() || 'unknown'
  }`;
}
