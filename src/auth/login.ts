import type { SyncOnUnavailable } from '../config';
import type { EntitlementsService } from '../entitlements/service';
import { userLabel, type Logger } from '../logging';
import type { AdminRoleSync, SyncResult } from '../sync/admin-sync';
import { fetchForSync, syncFromAnswer } from '../sync/sync-user';
import { EntitlementsUnavailableError } from '../entitlements/types';
import { readClaims } from './claims';
import { LoginRefusedError } from './errors';
import type { UserRecord } from './prisma-types';
import { resolveUser, type UserDirectory, type UserRules } from './users';

export interface LoginDeps {
  users: UserDirectory;
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
 * Everything a login does once the identity provider vouched for the claims, before any session exists:
 * the user rules, then the entitlements fetch (forced refresh) and the admin-role sync. The fetch runs
 * while the user row is written, and so does the sync of a known user: the step costs the login little
 * more than its own round trips.
 */
export async function completeLogin(deps: LoginDeps, rawClaims: Record<string, unknown>): Promise<LoginResult> {
  const resolved = await resolveUser(deps.users, readClaims(rawClaims), deps.rules);
  if (deps.syncOnLogin === false) return { user: await deps.users.save(resolved) };

  const subject = resolved.kind === 'existing' ? resolved.user : { sub: resolved.data.sub, email: resolved.data.email ?? null };
  const answer = fetchForSync(deps.entitlements, { sub: subject.sub, email: subject.email, userInfo: rawClaims });
  if (deps.onUnavailable === 'deny') {
    // The answer may refuse the login, and a refused login writes nothing: it comes before the user row.
    const fetched = await answer;
    if (fetched instanceof EntitlementsUnavailableError) {
      deps.logger.warn({ user: userLabel(subject.email) }, 'login refused: entitlements service unavailable (ENTITLEMENTS_SYNC_ON_UNAVAILABLE=deny)');
      throw new LoginRefusedError('entitlements_unavailable', 'Entitlements service unavailable: please try again later');
    }
    const user = await deps.users.save(resolved);
    return { user, sync: await syncFromAnswer(deps.adminSync, user, fetched) };
  }
  if (resolved.kind === 'existing') {
    const [user, sync] = await Promise.all([deps.users.save(resolved), answer.then((a) => syncFromAnswer(deps.adminSync, resolved.user, a))]);
    return { user, sync };
  }
  const [user, fetched] = await Promise.all([deps.users.save(resolved), answer]);
  return { user, sync: await syncFromAnswer(deps.adminSync, user, fetched) };
}
