import RedisStore from 'connect-redis';
import session, { type Store } from 'express-session';
import type { RequestHandler } from 'express';
import type { SessionStoreKind } from '../config';
import type { Logger } from '../logging';
import { createRedisClient, firstConnection } from '../redis';
import { DatabaseSessionStore, type SessionPrismaClient } from './database-session-store';

export const SESSION_COOKIE = 'sessionid';
/** A session that never completed a login (it holds a login's state) lives this long at most. */
export const ANONYMOUS_SESSION_MS = 15 * 60 * 1000;

export interface SessionStoreOptions {
  kind: SessionStoreKind;
  redisUrl?: string;
  /** Key prefix in Redis (ENTITLEMENTS_CACHE_PREFIX, so several apps can share one Redis). */
  prefix: string;
  /** A client whose schema has the `Session` model (the `sessions` table). */
  prisma: Partial<SessionPrismaClient>;
  logger: Logger;
}

export interface ClosableStore {
  store: Store;
  close(): Promise<void>;
}

/**
 * The `sessions` table by default (shared by every instance, untouched by a Redis outage); Redis with
 * SESSION_STORE=redis, where an outage of Redis ends the sessions.
 */
export function createSessionStore({ kind, redisUrl, prefix, prisma, logger }: SessionStoreOptions): ClosableStore {
  if (kind === 'redis' && redisUrl) {
    const client = createRedisClient(redisUrl);
    // Lifetimes are absolute, so a touch would only cost a round trip.
    const store = new RedisStore({ client, prefix: `${prefix}:session:`, disableTouch: true });
    // Right after start the client is still connecting, and without an offline queue its commands would fail.
    const connecting = firstConnection(client);
    for (const method of ['get', 'set', 'destroy'] as const) {
      const call = (store[method] as (...args: unknown[]) => unknown).bind(store);
      (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => connecting.then(() => call(...args));
    }
    return { store, close: async () => client.disconnect() };
  }
  if (!prisma.session) {
    throw new Error('the default session store needs the `Session` model in your Prisma schema (oidc-entitlements models), or pass `sessionStore`');
  }
  const store = new DatabaseSessionStore(prisma as SessionPrismaClient, logger);
  return { store, close: async () => store.close() };
}

/**
 * express-session with the cookie rules of the guide: httpOnly, SameSite=Lax, Secure in production.
 * Lifetimes are absolute: a new session (a login under way) expires 15 minutes after it was created,
 * a logged-in one `SESSION_COOKIE_AGE` after the login (the callback sets it); requests never extend
 * them, so the cookie's expiry and the stored one stay the same.
 * When the store fails, the request goes on without a session — anonymous, so the API answers 401
 * and a login 503 — instead of failing: sessions fail closed, never in a storm of 500s.
 */
export function sessionMiddleware({
  secret,
  production,
  trustProxy,
  store,
  logger,
}: {
  secret: string;
  production: boolean;
  /** TRUST_PROXY is set: a request is secure when the proxy says so (X-Forwarded-Proto), whatever the app's `trust proxy`. */
  trustProxy: boolean;
  store: Store;
  logger: Logger;
}): RequestHandler {
  const handler = session({
    name: SESSION_COOKIE,
    secret,
    store,
    proxy: trustProxy ? true : undefined,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: production, maxAge: ANONYMOUS_SESSION_MS },
  });
  // Requests without a session cookie never touch the store, so recovery cannot be seen per request:
  // an outage is logged at most once a minute instead of at every request.
  let lastWarning = 0;
  return (req, res, next) => {
    handler(req, res, (error?: unknown) => {
      if (error) {
        if (Date.now() - lastWarning > 60_000) {
          logger.warn({ err: (error as Error).message }, 'session store unreachable: requests go on without a session');
          lastWarning = Date.now();
        }
        delete (req as { session?: unknown }).session;
        return next();
      }
      // express-session would reset the expiry to now + maxAge at every response (a sliding session).
      if (req.session) req.session.touch = () => req.session;
      next();
    });
  };
}
