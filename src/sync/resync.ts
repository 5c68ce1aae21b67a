import type { UserRecord } from '../auth/prisma-types';
import type { AdminRoleSync } from './admin-sync';
import type { EntitlementsService } from '../entitlements/service';
import type { Entitlements, EntitlementsUnavailableError } from '../entitlements/types';
import { fetchForSync, withAnswer, type UserSyncResult } from './sync-user';

export interface ResyncDeps {
  entitlements: EntitlementsService;
  adminSync: AdminRoleSync;
}

/** A user a resync works on. */
export type ResyncSubject = Pick<UserRecord, 'id' | 'sub' | 'email' | 'isActive'>;

/** How many users' entitlements a resync asks for at once by default; docs/performance.md has the measurement behind it. */
export const DEFAULT_RESYNC_CONCURRENCY = 128;

/** What an inactive user is synced to: nothing (it is not asked about). */
const INACTIVE: Entitlements = { can_access: false, can_admin_maildomains: [] };

/**
 * A resync's answers (a sync without a login: resync command, webhook): a forced refresh of each user's
 * entitlements, `concurrency` at a time; an inactive user is not asked about and is entitled to nothing.
 */
export function fetchResyncAnswers(
  entitlements: EntitlementsService,
  users: ResyncSubject[],
  concurrency: number,
): Promise<(Entitlements | EntitlementsUnavailableError)[]> {
  return mapConcurrently(users, concurrency, async (user) => (user.isActive ? fetchForSync(entitlements, user) : INACTIVE));
}

/** The batch's sync from its answers (one shared read and write, each user its own outcome and audit rows). */
export async function syncResyncAnswers(
  adminSync: AdminRoleSync,
  users: ResyncSubject[],
  answers: (Entitlements | EntitlementsUnavailableError)[],
): Promise<UserSyncResult[]> {
  const results = await adminSync.syncMany(users.map((user, index) => ({ user, answer: answers[index]! })));
  return results.map((result, index) => withAnswer(result, answers[index]!));
}

/** Resyncs a batch of users: their answers fetched `concurrency` at a time, then one batched sync. */
export async function resyncUsers(deps: ResyncDeps, users: ResyncSubject[], concurrency: number): Promise<UserSyncResult[]> {
  return syncResyncAnswers(deps.adminSync, users, await fetchResyncAnswers(deps.entitlements, users, concurrency));
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
