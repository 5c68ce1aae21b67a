import { Router, type RequestHandler } from 'express';
import { jsonBody } from '../http/json-body';
import type { Config } from '../config';
import type { EntitlementsService } from '../entitlements/service';
import type { Logger } from '../logging';
import { apiErrorHandler } from './errors';
import { mailDomainRoutes } from './maildomains';
import { meRoutes } from './me';
import { openApiDocument } from './openapi';
import type { ApiPrismaClient } from './prisma-types';
import { provisioningRoutes } from './provisioning';
import { resyncRoutes } from './resync';
import type { AdminRoleSync } from '../sync/admin-sync';
import type { UserPrismaClient } from '../auth/prisma-types';
import type { UserDirectory } from '../auth/users';
import { requireEntitlement } from './require-entitlement';

export interface ApiDeps {
  prisma: ApiPrismaClient & UserPrismaClient;
  users: UserDirectory;
  entitlements: EntitlementsService;
  adminSync: AdminRoleSync;
  config: Pick<Config, 'features' | 'provisioningApiKey' | 'resyncApiKey' | 'provisioningMaxDomains'>;
  logger: Logger;
  /** Run first on every route of the API: access log, security headers, the origin check. */
  guards: RequestHandler[];
  /** The failed-bearer-key rate limit, before the bearer routes. */
  bearerLimit: RequestHandler;
}

/** Where the API's routes live: the guards and the body parser apply there only, not to a host's routes beside them. */
const API_PATHS = ['/users/me/', '/entitlements/', '/config/', '/provisioning/', '/maildomains/', '/openapi.json'];

/**
 * The REST surface of docs/specification.md §7 (under /api/v1.0): JSON bodies up to 1 MiB and 64 levels deep, the
 * can_access gate on users/me/ and maildomains/, and every error as `{"detail": ...}`.
 */
export function apiRoutes({ prisma, users, entitlements, adminSync, config, logger, guards, bearerLimit }: ApiDeps): Router {
  const router = Router();
  const gate = requireEntitlement(entitlements, 'can_access');
  const document = openApiDocument();
  router.use(API_PATHS, ...guards, jsonBody());
  router.use(['/provisioning/', '/entitlements/resync/'], bearerLimit);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use(meRoutes({ prisma, entitlements, features: config.features }, gate));
  router.use(provisioningRoutes({ prisma, apiKey: config.provisioningApiKey, maxDomains: config.provisioningMaxDomains, logger }));
  router.use(resyncRoutes({ users, apiKey: config.resyncApiKey, logger, deps: { entitlements, adminSync } }));
  router.use(mailDomainRoutes({ prisma, features: config.features }, gate));
  router.use(apiErrorHandler(logger));
  return router;
}
