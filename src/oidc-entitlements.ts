import type { Router, RequestHandler } from 'express';
import { Passport } from 'passport';
import type * as client from 'openid-client';
import type { Store } from 'express-session';
import type { Config } from './config';
import type { DatabaseProvider } from './db/provider';
import type { EntitlementsCacheStore } from './entitlements/cache/store';
import { createEntitlementsService } from './entitlements/create';
import type { EntitlementsService } from './entitlements/service';
import { EntitlementsMetrics } from './metrics';
import type { EntitlementsBackend } from './entitlements/types';
import { createLogger, type Logger } from './logging';
import { AdminRoleSync } from './sync/admin-sync';
import type { SyncPrismaClient } from './sync/prisma-types';
import { syncUser, type UserSyncResult, type UserToSync } from './sync/sync-user';
import type { ApiPrismaClient } from './api/prisma-types';
import { requireEntitlement } from './api/require-entitlement';
import { apiRoutes } from './api/router';
import { completeLogin } from './auth/login';
import type { UserPrismaClient, UserRecord } from './auth/prisma-types';
import { authRoutes } from './auth/routes';
import { createSessionStore, sessionMiddleware } from './auth/session';
import { discoverIssuer, OidcLoginStrategy, STRATEGY_NAME } from './auth/strategy';

declare global {
  namespace Express {
    /** `req.user` once logged in: the `users` row. */
    interface User extends UserRecord {}
  }
}

/** The host's client: any PrismaClient generated from prisma/models.prisma fits. */
export type OidcEntitlementsPrisma = SyncPrismaClient & UserPrismaClient & ApiPrismaClient;

export interface OidcEntitlementsOptions {
  prisma: OidcEntitlementsPrisma;
  config: Config;
  logger?: Logger;
  /** The client's database; read from the client when not given. */
  provider?: DatabaseProvider;
  /** A backend instead of the one ENTITLEMENTS_BACKEND names. */
  backend?: EntitlementsBackend;
  /** An entitlements cache instead of node-cache / Redis. */
  cacheStore?: EntitlementsCacheStore;
  /** A session store instead of Redis (REDIS_URL) / the `sessions` table. */
  sessionStore?: Store;
  /** `false` turns the entitlements step of the login off (benchmarks). */
  syncOnLogin?: boolean;
  /** Where the counters go (a registry of yours can be passed to it); one is made otherwise. */
  metrics?: EntitlementsMetrics;
}

export interface OidcEntitlements {
  /** Mount app-wide, before your routes: the session and Passport (`req.user`). */
  session: RequestHandler[];
  /** Mount at `/api/v1.0`: the login routes and the REST surface of DESIGN §7. */
  router: Router;
  /**
   * Gate for API routes (DESIGN §5.3): anonymous and superusers pass, `name` false → 403, service
   * unavailable → 503.
   */
  requireEntitlement(name?: string): RequestHandler;
  /** The Passport strategy, once the issuer is discovered. */
  strategy(): Promise<OidcLoginStrategy>;
  /** Re-sync a user's admin rows now (forced refresh), without a login. */
  syncUser(user: UserToSync): Promise<UserSyncResult>;
  entitlements: EntitlementsService;
  adminSync: AdminRoleSync;
  /** Prometheus metrics; `metrics.handler()` serves them. */
  metrics: EntitlementsMetrics;
  /** Discovery of the issuer (done on first use; call it to fail fast at start). */
  ready(): Promise<client.Configuration>;
  close(): Promise<void>;
}

/** The library in one call: login, entitlements and admin-role sync for an Express 5 app. */
export function createOidcEntitlements(options: OidcEntitlementsOptions): OidcEntitlements {
  const { prisma, config } = options;
  const logger = options.logger ?? createLogger();
  const metrics = options.metrics ?? new EntitlementsMetrics();
  const entitlements = createEntitlementsService({
    config,
    logger,
    backend: options.backend,
    store: options.cacheStore,
    onFetch: metrics.recordFetch,
    onUpstream: metrics.recordUpstream,
  });
  const adminSync = new AdminRoleSync({ prisma, provider: options.provider, logger, options: config.entitlements.sync, onResult: metrics.recordSync });
  const sessions = options.sessionStore
    ? { store: options.sessionStore, close: async () => undefined }
    : createSessionStore({ redisUrl: config.redisUrl, prefix: config.entitlements.cache.prefix, prisma, logger });

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
    prisma,
    entitlements,
    adminSync,
    logger,
    rules: config.oidc,
    onUnavailable: config.entitlements.sync.onUnavailable,
    syncOnLogin: options.syncOnLogin,
  };
  let discovery: Promise<{ configuration: client.Configuration; strategy: OidcLoginStrategy }> | undefined;
  const discover = () => {
    discovery ??= discoverIssuer(config.oidc).then(
      (configuration) => {
        const strategy = new OidcLoginStrategy(configuration, config.oidc, async ({ claims, idToken }) => {
          const { user } = await completeLogin(loginDeps, claims);
          return { ...user, idToken };
        });
        passport.use(STRATEGY_NAME, strategy);
        return { configuration, strategy };
      },
      (error: unknown) => {
        discovery = undefined; // the IdP may come back: the next request tries again
        throw error;
      },
    );
    return discovery;
  };
  const ready = async () => (await discover()).configuration;

  const router = apiRoutes({ prisma, entitlements, adminSync, config, logger }, authRoutes({ passport, ready, oidc: config.oidc, logger, onLogin: metrics.recordLogin }));

  return {
    session: [
      sessionMiddleware({ secret: config.sessionSecret, production: config.production, store: sessions.store, logger }),
      passport.initialize(),
      // Without a session (its store is down) the request is anonymous rather than an error.
      (req, res, next) => (req.session ? passportSession(req, res, next) : next()),
    ],
    router,
    requireEntitlement: (name) => requireEntitlement(entitlements, name),
    strategy: async () => (await discover()).strategy,
    syncUser: (user) => syncUser({ entitlements, adminSync }, user),
    entitlements,
    adminSync,
    metrics,
    ready,
    close: async () => {
      await sessions.close();
      await entitlements.close();
    },
  };
}

