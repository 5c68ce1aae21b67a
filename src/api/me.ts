import { Router, type RequestHandler } from 'express';
import type { Config } from '../config';
import type { EntitlementsService } from '../entitlements/service';
import { EntitlementsUnavailableError, type Entitlements } from '../entitlements/types';
import { ENTITLEMENTS_UNAVAILABLE } from './require-entitlement';
import { ApiError, requireUser } from './errors';
import type { ApiPrismaClient } from './prisma-types';
import type { z } from 'zod';
import type { ConfigBody, EntitlementEntry, UserMe } from './schemas';

type Entry = z.infer<typeof EntitlementEntry>;

/**
 * docs/specification.md §7.3: every boolean `can_*` of the answer as `{ result, message? }` (`message` from its
 * `*_reason`), and `can_admin_maildomains` as `{ result: non-empty, domains }` when it is a list.
 */
export function entitlementsView(answer: Entitlements): Record<string, Entry> {
  const view: Record<string, Entry> = {};
  for (const [key, value] of Object.entries(answer)) {
    if (!key.startsWith('can_') || key.endsWith('_reason')) continue;
    if (key === 'can_admin_maildomains') {
      if (Array.isArray(value)) {
        const domains = value.filter((item): item is string => typeof item === 'string');
        view[key] = { result: domains.length > 0, domains };
      }
      continue;
    }
    if (typeof value !== 'boolean') continue;
    const reason = answer[`${key}_reason`];
    view[key] = typeof reason === 'string' && reason ? { result: value, message: reason } : { result: value };
  }
  return view;
}

export interface MeDeps {
  prisma: ApiPrismaClient;
  entitlements: EntitlementsService;
  features: Config['features'];
}

/** `users/me/`, `entitlements/` and `config/`. */
export function meRoutes({ prisma, entitlements, features }: MeDeps, gate: RequestHandler): Router {
  const router = Router();

  router.get('/users/me/', requireUser, gate, async (req, res) => {
    const user = req.user!;
    const [accessCount, canCreate] = await Promise.all([
      user.isSuperuser ? Promise.resolve(1) : prisma.mailDomainAccess.count({ where: { userId: user.id } }),
      entitlements.getUserEntitlements({ sub: user.sub ?? '', email: user.email }).then(
        (answer) => answer.can_create === true,
        () => false,
      ),
    ]);
    const body: z.infer<typeof UserMe> = {
      id: user.id,
      sub: user.sub,
      email: user.email,
      full_name: user.fullName,
      short_name: user.shortName,
      is_superuser: user.isSuperuser,
      abilities: { view_maildomains: user.isSuperuser || accessCount > 0, create_maildomains: user.isSuperuser, manage_accesses: user.isSuperuser },
      can_create: canCreate,
    };
    res.json(body);
  });

  router.get('/entitlements/', requireUser, async (req, res) => {
    const user = req.user!;
    try {
      res.json(entitlementsView(await entitlements.getUserEntitlements({ sub: user.sub ?? '', email: user.email })));
    } catch (error) {
      if (error instanceof EntitlementsUnavailableError) throw new ApiError(503, ENTITLEMENTS_UNAVAILABLE);
      throw error;
    }
  });

  router.get('/config/', (_req, res) => {
    const body: z.infer<typeof ConfigBody> = {
      FEATURE_MAILDOMAIN_CREATE: features.maildomainCreate,
      FEATURE_MAILDOMAIN_MANAGE_ACCESSES: features.maildomainManageAccesses,
    };
    res.json(body);
  });
  return router;
}
