import express, { type ErrorRequestHandler, type Express } from 'express';
import type Provider from 'oidc-provider';
import type { AppPrismaClient } from './db';
import { sendError } from '../src/http/errors';
import { accessLog } from '../src/http/access-log';
import { compileTrust } from '../src/http/client-ip';
import { pageSecurityHeaders } from '../src/http/headers';
import type { Config } from '../src/config';
import type { Logger } from '../src/logging';
import type { OidcEntitlements } from '../src/index';
import { devDeployCenterRouter } from './dev-deploycenter';
import { idpRequestListener, type DemoAccount } from '../src/development/idp';
import { homePage } from './home';

export const DEV_IDP_PATH = '/dev-idp';
export const DEV_DEPLOYCENTER_PATH = '/dev-deploycenter';

/** What the reference server mounts in development: the IdP (without OIDC_ISSUER) and the DeployCenter stand-in (without ENTITLEMENTS_BACKEND). */
export interface DevelopmentParts {
  idp?: { provider: Provider; accounts: DemoAccount[] };
  deployCenter?: { file: string; apiKey: string };
}

export interface ReferenceAppOptions {
  lib: OidcEntitlements;
  config: Pick<Config, 'trustProxy' | 'production' | 'oidc'>;
  /** Serve `/metrics` here (no session); false when METRICS_PORT serves them. */
  serveMetrics?: boolean;
  prisma: AppPrismaClient;
  logger: Logger;
  development?: DevelopmentParts;
}

/** The reference server's Express app: the library under /api/v1.0, a home page, and the development parts. */
export function createReferenceApp({ lib, config, prisma, logger, development, serveMetrics = true }: ReferenceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // The same TRUST_PROXY the library reads, for the app's own routes (req.ip, req.secure).
  app.set('trust proxy', config.trustProxy);
  app.use(accessLog({ logger, trust: compileTrust(config.trustProxy) }));
  // The development parts come before the headers: oidc-provider sets its own on its pages.
  if (development?.idp) app.use(DEV_IDP_PATH, idpRequestListener(development.idp.provider));
  if (development?.deployCenter) app.use(DEV_DEPLOYCENTER_PATH, devDeployCenterRouter(development.deployCenter));
  app.use(pageSecurityHeaders({ production: config.production, formTargets: config.oidc.issuer ? [new URL(config.oidc.issuer).origin] : [] }));
  if (serveMetrics) app.get('/metrics', lib.metricsHandler());
  app.use(lib.session);
  app.use('/api/v1.0', lib.authRouter, lib.apiRouter);
  app.get('/', homePage({ prisma, getEntitlements: lib.getEntitlements, demoAccounts: development?.idp?.accounts }));
  app.use((req, res) => sendError(req, res, 404, 'Not found'));
  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return sendError(req, res, status, (error as Error).message);
    logger.error({ err: error, path: req.path }, 'request failed');
    sendError(req, res, 500, 'Internal error');
  };
  app.use(onError);
  return app;
}
