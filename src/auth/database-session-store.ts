import { createHash } from 'node:crypto';
import { Store, type SessionData } from 'express-session';
import type { Logger } from '../logging';

/** The `sessions` table calls the store makes (the package's `Session` model). */
export interface SessionPrismaClient {
  session: {
    findUnique(args: { where: { sid: string } }): Promise<{ data: string; expiresAt: Date } | null>;
    upsert(args: {
      where: { sid: string };
      create: { id: string; sid: string; data: string; expiresAt: Date };
      update: { data: string; expiresAt: Date };
    }): Promise<unknown>;
    deleteMany(args: { where: { sid: string } | { expiresAt: { lt: Date } } }): Promise<{ count: number }>;
  };
}

/** Sessions whose last write is remembered, to skip writing the same again. */
const LAST_WRITTEN_MAX = 10_000;

/** Expired rows are deleted this often (one indexed DELETE), never scanned at a request. */
const PRUNE_EVERY_MS = 10 * 60 * 1000;

/** What the table keeps of a session id: its SHA-256, so a leaked table holds no usable session id. */
function digest(sid: string): string {
  return createHash('sha256').update(sid).digest('hex');
}

function expiryOf(session: SessionData): Date {
  const expires = session.cookie?.expires;
  return expires ? new Date(expires) : new Date(Date.now() + (session.cookie?.originalMaxAge ?? 0));
}

/**
 * express-session's store on the `sessions` table, as Django's database sessions: any instance serves
 * any session, and Redis plays no part. One read per request that carries a session cookie, one write
 * when the session changed; `touch` writes nothing, because lifetimes are absolute (they never slide,
 * see sessionMiddleware). Expired rows are ignored when read and deleted every ten minutes.
 */
export class DatabaseSessionStore extends Store {
  private readonly pruning: NodeJS.Timeout;
  /**
   * What this process last wrote for each session (bounded): express-session saves a regenerated
   * session once more at the end of the request that regenerated it, with nothing changed.
   */
  private readonly lastWritten = new Map<string, string>();

  constructor(
    private readonly prisma: SessionPrismaClient,
    private readonly logger: Logger,
  ) {
    super();
    this.pruning = setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref();
  }

  override get(sid: string, callback: (error: unknown, session?: SessionData | null) => void): void {
    this.prisma.session.findUnique({ where: { sid: digest(sid) } }).then((row) => {
      if (!row || row.expiresAt.getTime() <= Date.now()) return callback(null, null);
      let session: SessionData;
      try {
        session = JSON.parse(row.data) as SessionData;
      } catch {
        return callback(null, null); // unreadable: no session, the visitor starts anew
      }
      callback(null, session);
    }, callback);
  }

  override set(sid: string, session: SessionData, callback?: (error?: unknown) => void): void {
    const row = { data: JSON.stringify(session), expiresAt: expiryOf(session) };
    const key = digest(sid);
    const written = `${row.expiresAt.getTime()} ${row.data}`;
    if (this.lastWritten.get(key) === written) return callback?.();
    this.prisma.session.upsert({ where: { sid: key }, create: { id: key, sid: key, ...row }, update: row }).then(
      () => {
        this.lastWritten.delete(key);
        this.lastWritten.set(key, written);
        if (this.lastWritten.size > LAST_WRITTEN_MAX) this.lastWritten.delete(this.lastWritten.keys().next().value!);
        callback?.();
      },
      (error: unknown) => callback?.(error),
    );
  }

  override destroy(sid: string, callback?: (error?: unknown) => void): void {
    this.lastWritten.delete(digest(sid));
    this.prisma.session.deleteMany({ where: { sid: digest(sid) } }).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  /** Lifetimes are absolute: there is nothing to extend, and no write per request. */
  override touch(_sid: string, _session: SessionData, callback?: () => void): void {
    callback?.();
  }

  /** Deletes the expired rows (through the `expires_at` index); returns how many. */
  async prune(): Promise<number> {
    try {
      return (await this.prisma.session.deleteMany({ where: { expiresAt: { lt: new Date() } } })).count;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'sessions: expired rows could not be deleted (tried again later)');
      return 0;
    }
  }

  close(): void {
    clearInterval(this.pruning);
  }
}
