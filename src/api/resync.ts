import { Router } from 'express';
import { z } from 'zod';
import type { UserDirectory } from '../auth/users';
import type { Logger } from '../logging';
import { mapConcurrently, resyncUser, type ResyncDeps } from '../sync/resync';
import { checkBearer } from './bearer';
import { ApiError, parse } from './errors';
import { INVALID_API_KEY } from './provisioning';
import { ResyncRequest, type ResyncResponse } from './schemas';

const CONCURRENCY = 8;

/**
 * docs/specification.md §7.9: `POST entitlements/resync/` — what an authorization or billing service calls when a
 * grant changes. Each user is synced now (forced refresh), each in its own transaction.
 */
export function resyncRoutes({ users: directory, apiKey, logger, deps }: { users: UserDirectory; apiKey?: string; logger: Logger; deps: ResyncDeps }): Router {
  const router = Router();
  router.post('/entitlements/resync/', async (req, res) => {
    if (!checkBearer(req, res, apiKey)) throw new ApiError(403, INVALID_API_KEY);
    const body = parse(ResyncRequest, req.body ?? {});
    const [key, values] = 'emails' in body ? (['email', body.emails] as const) : (['sub', body.subs] as const);
    const unique = [...new Set(values.map((value) => value.trim()).filter(Boolean))];
    const perValue = await mapConcurrently(unique, CONCURRENCY, async (value) => {
      const users = await directory.by(key, value);
      if (users.length === 0) return [{ [key]: value, user_id: null, outcome: 'not_found' as const, granted: 0, upgraded: 0, revoked: 0 }];
      const results = [];
      for (const user of users) {
        const result = await resyncUser(deps, user);
        results.push({ [key]: value, user_id: user.id, outcome: result.outcome, granted: result.granted, upgraded: result.upgraded, revoked: result.revoked });
      }
      return results;
    });
    const results = perValue.flat() as z.infer<typeof ResyncResponse>['results'];
    logger.info({ users: unique.length, by: key }, 'resync webhook');
    res.json({ results });
  });
  return router;
}
