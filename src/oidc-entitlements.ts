import type { RequestHandler, Router } from 'express';
import type { Store } from 'express-session';
import { Passport } from 'passport';
import type { Registry } from 'prom-client';
import { apiRoutes } from './api/router';
import { requireEntitlement } from './api/require-entitlement';
import type { ApiPrismaClient } from './api/prisma-types';
import { completeLogin } from './auth/login';
import type { UserPrismaClient, UserRecord } from './auth/prisma-types';
import { authRoutes } from './auth/routes';
import type { SessionPrismaClient } from './auth/database-session-store';
import { createSessionStore, sessionMiddleware } from './auth/session';
import { discoverIssuer, OidcLoginStrategy, STRATEGY_NAME } from './auth/strategy';
import type { Config } from './config';
import { requireProvider, type DatabaseProvider } from './db/provider';
import { UserDirectory } from './auth/users';
import type { EntitlementsCacheStore } from './entitlements/cache/store';
import { createEntitlementsService } from './entitlements/create';
import type { Entitlements, EntitlementsBackend, EntitlementsRequest } from './entitlements/types';
import { accessLog } from './http/access-log';
import { compileTrust } from './http/client-ip';
import { securityHeaders } from './http/headers';
import { originCheck } from './http/origin-check';
import { createRateLimits } from './http/rate-limit';
import { protectedMetrics } from './api/metrics-route';
import { createRedisClient } from './redis';
import { createLogger, type Logger } from './logging';
import { EntitlementsMetrics } from './metrics';
import { AdminRoleSync } from './sync/admin-sync';
import type { SyncPrismaClient } from './sync/prisma-types';
import { syncUser, type UserSyncResult, type UserToSync } from './sync/sync-user';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own way to type `req.user`
  namespace Express {
    /** `req.user` once logged in: the `users` row. */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging with Passport's `Express.User`
    interface User extends UserRecord {}
  }
}

/**
 * The host's PrismaClient, described by the calls the library makes: any client generated from a
 * schema that holds the package's models (`oidc-entitlements models`) fits, SQLite or PostgreSQL.
 */
export type OidcEntitlementsPrisma = SyncPrismaClient & UserPrismaClient & ApiPrismaClient & Partial<SessionPrismaClient>;

/** What {@link createOidcEntitlements} takes. */
export interface OidcEntitlementsOptions {
  /** Your PrismaClient (with its driver adapter); its schema must hold the package's models. */
  prisma: OidcEntitlementsPrisma;
  /** The settings, usually `loadConfig()` (the environment and `./.env`). */
  config: Config;
  /** A pino logger (or one with pino's `debug/info/warn/error` signature); pino on stdout otherwise. */
  logger?: Logger;
  /** The client's database, when it cannot be read from the client (a wrapped or extended client). */
  provider?: DatabaseProvider;
  /** An entitlements backend instance instead of the one `config.entitlements.backend` names. */
  backend?: EntitlementsBackend;
  /** Where entitlements answers are cached instead of the in-process store (or Redis with `config.redisUrl`). */
  cacheStore?: EntitlementsCacheStore;
  /** An express-session store instead of the `sessions` table (or Redis with `config.redisUrl`). */
  sessionStore?: Store;
  /** The prom-client registry the metrics are registered in (yours, to serve them with your own); a new one otherwise. */
  metricsRegistry?: Registry;
  /** `false` leaves the entitlements step out of the login (to measure what it costs); default `true`. */
  syncOnLogin?: boolean;
}

/** What {@link createOidcEntitlements} gives: middleware and routers to mount, and the operations behind them. */
export interface OidcEntitlements {
  /** Mount app-wide, before your routes: express-session and Passport, so that `req.user` is the `users` row. */
  session: RequestHandler[];
  /** The login routes, to mount at `/api/v1.0`: `GET authenticate/`, `GET callback/`, `GET|POST logout/`. */
  authRouter: Router;
  /**
   * The REST surface La Suite front-ends call, to mount at `/api/v1.0` if you want it: `users/me/`,
   * `entitlements/`, `config/`, `provisioning/maildomains/`, `maildomains/…`, `entitlements/resync/`,
   * `openapi.json` (docs/api.md). Mount only {@link authRouter} to leave it out.
   */
  apiRouter: Router;
  /**
   * A guard for your routes: lets anonymous requests through (your route answers 401) and superusers;
   * refuses with 403 `{"detail": "Access denied by entitlements policy"}` when the user's cached answer
   * does not grant `name` (default `can_access`), and 503 when the entitlements service is unavailable.
   */
  requireEntitlement(name?: string): RequestHandler;
  /** The user's entitlements, from the cache when fresh (`forceRefresh` asks the service); throws `EntitlementsUnavailableError`. */
  getEntitlements(request: EntitlementsRequest): Promise<Entitlements>;
  /** Re-syncs one user's ADMIN rows now (forced refresh), without a login. Never throws: see `outcome`. */
  syncUser(user: UserToSync): Promise<UserSyncResult>;
  /**
   * The Passport strategy, for hosts that wire Passport themselves (`passport.use('oidc', await
   * oe.strategy())`); discovers the issuer on first call.
   */
  strategy(): Promise<OidcLoginStrategy>;
  /**
   * `GET /metrics` handler: Prometheus text of {@link OidcEntitlementsOptions.metricsRegistry}. With
   * `config.metricsApiKey` it asks for that bearer key; without one it answers 404 in production — unless
   * `dedicatedPort` says it is served on a port of its own (METRICS_PORT), which is not reachable by users.
   */
  metricsHandler(options?: MetricsHandlerOptions): RequestHandler;
  /**
   * Discovers the issuer now (it is otherwise done on the first login): call it to fail fast at start. Also
   * fills in `users.email_normalized` where a migration or the host left it empty (otherwise done by the
   * first login that looks a user up by email).
   */
  ready(): Promise<void>;
  /** Closes the session store's and the cache's connections. */
  close(): Promise<void>;
}

/** Where {@link OidcEntitlements.metricsHandler} is served. */
export interface MetricsHandlerOptions {
  /** On a port of its own (METRICS_PORT): no key asked. Default `false`: on the app's port. */
  dedicatedPort?: boolean;
}

/** The library in one call: OIDC login, entitlements and the admin-role sync for an Express 5 app. */
export function createOidcEntitlements(options: OidcEntitlementsOptions): OidcEntitlements {
  const { prisma, config } = options;
  const logger = options.logger ?? createLogger();
  const metrics = new EntitlementsMetrics({ registry: options.metricsRegistry });
  const entitlements = createEntitlementsService({
    config,
    logger,
    backend: options.backend,
    store: options.cacheStore,
    onFetch: metrics.recordFetch,
    onUpstream: metrics.recordUpstream,
  });
  const provider = requireProvider(prisma, options.provider, 'createOidcEntitlements');
  const users = new UserDirectory(prisma, provider);
  const adminSync = new AdminRoleSync({ prisma, provider, logger, options: config.entitlements.sync, onResult: metrics.recordSync });
  const trust = compileTrust(config.trustProxy);
  const rateLimitRedis = config.redisUrl && config.rateLimitPerMinute > 0 ? createRedisClient(config.redisUrl) : undefined;
  const limits = createRateLimits({ perMinute: config.rateLimitPerMinute, trust, redis: rateLimitRedis, prefix: config.entitlements.cache.prefix, logger });
  const guards = [
    accessLog({ logger, trust }),
    ...securityHeaders({ production: config.production }),
    originCheck({ trustedOrigins: [new URL(config.oidc.redirectUri).origin, ...config.csrfTrustedOrigins], logger }),
  ];
  const sessions = options.sessionStore
    ? { store: options.sessionStore, close: async () => undefined }
    : createSessionStore({ kind: config.sessionStore, redisUrl: config.redisUrl, prefix: config.entitlements.cache.prefix, prisma, logger });

  const passport = new Passport();
  const passportSession = passport.session();
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id: string, done) => {
    prisma.user.findUnique({ where: { id } }).then(
      (user) => done(null, user?.isActive ? user : false),
      (error: unknown) => done(error),
    );
  });

  const loginDeps = {
    users,
    entitlements,
    adminSync,
    logger,
    rules: config.oidc,
    onUnavailable: config.entitlements.sync.onUnavailable,
    syncOnLogin: options.syncOnLogin,
  };
  let discovery: Promise<OidcLoginStrategy> | undefined;
  const discover = () => {
    discovery ??= discoverIssuer(config.oidc).then(
      (configuration) => {
        const strategy = new OidcLoginStrategy(configuration, config.oidc, async ({ claims, idToken }) => {
          const { user } = await completeLogin(loginDeps, claims);
          return { ...user, idToken };
        });
        passport.use(STRATEGY_NAME, strategy);
        return strategy;
      },
      (error: unknown) => {
        discovery = undefined; // the IdP may come back: the next request tries again
        throw error;
      },
    );
    return discovery;
  };

  return {
    session: [
      sessionMiddleware({
        secret: config.sessionSecret,
        production: config.production,
        trustProxy: config.trustProxy !== false,
        store: sessions.store,
        logger,
      }),
      passport.initialize(),
      // Without a session (its store is down) the request is anonymous rather than an error.
      (req, res, next) => (req.session ? passportSession(req, res, next) : next()),
    ],
    authRouter: authRoutes({
      passport,
      strategy: discover,
      oidc: config.oidc,
      sessionAgeSeconds: config.sessionCookieAge,
      logger,
      onLogin: metrics.recordLogin,
      guards,
      limits,
    }),
    apiRouter: apiRoutes({ prisma, users, entitlements, adminSync, config, logger, guards, bearerLimit: limits.bearerFailures }),
    requireEntitlement: (name) => requireEntitlement(entitlements, name),
    getEntitlements: (request) => entitlements.getUserEntitlements(request),
    syncUser: (user) => syncUser({ entitlements, adminSync }, user),
    strategy: discover,
    metricsHandler: ({ dedicatedPort = false } = {}) =>
      dedicatedPort
        ? metrics.handler()
        : protectedMetrics({ handler: metrics.handler(), apiKey: config.metricsApiKey, production: config.production, bearerLimit: limits.bearerFailures }),
    ready: async () => {
      await Promise.all([discover(), users.deriveNormalizedEmails()]);
    },
    close: async () => {
      limits.close();
      rateLimitRedis?.disconnect();
      await sessions.close();
      await entitlements.close();
    },
  };
}
