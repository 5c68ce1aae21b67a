import { Router } from 'express';
import { z } from 'zod';
import type { UserDirectory } from '../auth/users';
import type { Logger } from '../logging';
import { DEFAULT_RESYNC_CONCURRENCY, mapConcurrently, resyncUsers, type ResyncDeps, type ResyncSubject } from '../sync/resync';
import { checkBearer } from './bearer';
import { ApiError, parse } from './errors';
import { INVALID_API_KEY } from './provisioning';
import { ResyncRequest, type ResyncResponse } from './schemas';

/** How many users are looked up at once. */
const LOOKUPS_AT_ONCE = 8;

/**
 * docs/specification.md §7.9: `POST entitlements/resync/` — what an authorization or billing service calls when a
 * grant changes. Each user is synced now (forced refresh), the batch sharing its reads and writes (admin-sync.ts).
 */
export function resyncRoutes({ users: directory, apiKey, logger, deps }: { users: UserDirectory; apiKey?: string; logger: Logger; deps: ResyncDeps }): Router {
  const router = Router();
  router.post('/entitlements/resync/', async (req, res) => {
    if (!checkBearer(req, res, apiKey)) throw new ApiError(403, INVALID_API_KEY);
    const body = parse(ResyncRequest, req.body ?? {});
    const [key, values] = 'emails' in body ? (['email', body.emails] as const) : (['sub', body.subs] as const);
    const unique = [...new Set(values.map((value) => value.trim()).filter(Boolean))];
    const found = await mapConcurrently(unique, LOOKUPS_AT_ONCE, (value) => directory.by(key, value));
    const users = new Map<string, ResyncSubject>(found.flat().map((user) => [user.id, user]));
    const synced = await resyncUsers(deps, [...users.values()], DEFAULT_RESYNC_CONCURRENCY);
    const resultOf = new Map([...users.keys()].map((id, index) => [id, synced[index]!]));
    const perValue = unique.map((value, index) =>
      found[index]!.length === 0
        ? [{ [key]: value, user_id: null, outcome: 'not_found' as const, granted: 0, upgraded: 0, revoked: 0 }]
        : found[index]!.map((user) => {
            const { outcome, granted, upgraded, revoked } = resultOf.get(user.id)!;
            return { [key]: value, user_id: user.id, outcome, granted, upgraded, revoked };
          }),
    );
    const results = perValue.flat() as z.infer<typeof ResyncResponse>['results'];
    logger.info({ users: unique.length, by: key }, 'resync webhook');
    res.json({ results });
  });
  return router;
}
