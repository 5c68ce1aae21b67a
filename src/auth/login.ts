import type { SyncOnUnavailable } from '../config';
import type { EntitlementsService } from '../entitlements/service';
import { userLabel, type Logger } from '../logging';
import type { AdminRoleSync, SyncResult } from '../sync/admin-sync';
import { syncUser } from '../sync/sync-user';
import { readClaims } from './claims';
import { LoginRefusedError } from './errors';
import type { UserPrismaClient, UserRecord } from './prisma-types';
import { findOrCreateUser, type UserRules } from './users';

export interface LoginDeps {
  prisma: UserPrismaClient;
  entitlements: EntitlementsService;
  adminSync: AdminRoleSync;
  logger: Logger;
  rules: UserRules;
  onUnavailable: SyncOnUnavailable;
  /** Turns the entitlements step off (benchmarks compare the callback with and without it). */
  syncOnLogin?: boolean;
}

export interface LoginResult {
  user: UserRecord;
  sync?: SyncResult;
}

/**
 * Everything a login does once the identity provider vouched for the claims: the user rules, then —
 * before any session exists — the entitlements fetch with a forced refresh and the admin-role sync.
 */
export async function completeLogin(deps: LoginDeps, rawClaims: Record<string, unknown>): Promise<LoginResult> {
  const claims = readClaims(rawClaims);
  const user = await findOrCreateUser(deps.prisma, claims, deps.rules);
  if (deps.syncOnLogin === false) return { user };

  const sync = await syncUser(deps, { id: user.id, sub: user.sub, email: user.email, userInfo: rawClaims });
  if (sync.outcome === 'unavailable' && deps.onUnavailable === 'deny') {
    deps.logger.warn({ user: userLabel(user.email) }, 'login refused: entitlements service unavailable (ENTITLEMENTS_SYNC_ON_UNAVAILABLE=deny)');
    throw new LoginRefusedError('entitlements_unavailable', 'Entitlements service unavailable: please try again later');
  }
  return { user, sync };
}
