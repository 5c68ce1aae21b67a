import { PrismaSessionStore } from '@quixo3/prisma-session-store';
import RedisStore from 'connect-redis';
import session, { type Store } from 'express-session';
import type { RequestHandler } from 'express';
import { createRedisClient } from '../redis';
import type { Logger } from '../logging';

export const SESSION_COOKIE = 'sessionid';
const TWELVE_HOURS_MS = 12 * 60 * 60 * 1000;

export interface SessionStoreOptions {
  redisUrl?: string;
  /** Key prefix in Redis (ENTITLEMENTS_CACHE_PREFIX, so several apps can share one Redis). */
  prefix: string;
  /** A client whose schema has the `Session` model (the `sessions` table). */
  prisma: unknown;
  logger: Logger;
}

export interface ClosableStore {
  store: Store;
  close(): Promise<void>;
}

/** Redis with REDIS_URL (shared by instances), else the database (survives restarts). */
export function createSessionStore({ redisUrl, prefix, prisma, logger }: SessionStoreOptions): ClosableStore {
  if (redisUrl) {
    // Commands fail at once while Redis is away: requests go on without a session.
    const client = createRedisClient(redisUrl);
    return { store: new RedisStore({ client, prefix: `${prefix}:session:` }), close: async () => client.disconnect() };
  }
  const store = new PrismaSessionStore(prisma as ConstructorParameters<typeof PrismaSessionStore>[0], {
    checkPeriod: 10 * 60 * 1000,
    dbRecordIdIsSessionId: true,
    logger: { log: () => undefined, warn: (message: string) => logger.warn(message), error: (message: string) => logger.error(message) },
  });
  return { store, close: async () => store.shutdown() };
}

/**
 * express-session with the cookie rules of the guide: httpOnly, SameSite=Lax, Secure in production.
 * When the store fails (Redis down), the request goes on without a session — anonymous, so the API
 * answers 401 and a login 503 — instead of failing: sessions fail closed, never in a storm of 500s.
 */
export function sessionMiddleware({
  secret,
  production,
  store,
  logger,
}: {
  secret: string;
  production: boolean;
  store: Store;
  logger: Logger;
}): RequestHandler {
  const handler = session({
    name: SESSION_COOKIE,
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: production, maxAge: TWELVE_HOURS_MS },
  });
  // Requests without a session cookie never touch the store, so recovery cannot be seen per request:
  // an outage is logged at most once a minute instead of at every request.
  let lastWarning = 0;
  return (req, res, next) => {
    handler(req, res, (error?: unknown) => {
      if (!error) return next();
      if (Date.now() - lastWarning > 60_000) {
        logger.warn({ err: (error as Error).message }, 'session store unreachable: requests go on without a session');
        lastWarning = Date.now();
      }
      delete (req as { session?: unknown }).session;
      next();
    });
  };
}
