import type { UserRecord } from '../auth/prisma-types';
import type { AdminRoleSync } from './admin-sync';
import type { EntitlementsService } from '../entitlements/service';
import { syncFromAnswer, syncUser, type UserSyncResult } from './sync-user';

export interface ResyncDeps {
  entitlements: EntitlementsService;
  adminSync: AdminRoleSync;
}

/**
 * A sync without a login (resync command, webhook): a forced refresh then the sync; an inactive user
 * is not asked about and loses the ADMIN rows the sync manages, as if entitled to nothing.
 */
export function resyncUser(deps: ResyncDeps, user: Pick<UserRecord, 'id' | 'sub' | 'email' | 'isActive'>, correlationId?: string): Promise<UserSyncResult> {
  if (!user.isActive) return syncFromAnswer(deps.adminSync, user, { can_access: false, can_admin_maildomains: [] }, correlationId);
  return syncUser(deps, user, correlationId);
}

/** Runs `work` over `items` with at most `concurrency` at a time, results in input order. */
export async function mapConcurrently<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}
