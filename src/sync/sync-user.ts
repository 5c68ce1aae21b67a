import type { EntitlementsService } from '../entitlements/service';
import { EntitlementsUnavailableError, type Entitlements } from '../entitlements/types';
import type { AdminRoleSync, SyncResult } from './admin-sync';

/** A user whose rows are synced: the `users` row's id, sub and email. */
export interface UserToSync {
  /** `users.id`. */
  id: string;
  /** The OIDC subject (the cache key). */
  sub: string | null;
  /** The email the entitlements service is asked about. */
  email: string | null;
  /** Claims of the login (forwarded to the backend as configured); none for a resync without login. */
  userInfo?: Record<string, unknown>;
}

/** A sync's result, with the answer it worked from. */
export interface UserSyncResult extends SyncResult {
  /** The answer the sync used (fresh, or stale when the service failed); absent when unavailable. */
  entitlements?: Entitlements;
}

/** The answer a sync works from: a forced refresh (stale when the service fails), or why there is none. */
export async function fetchForSync(entitlements: EntitlementsService, user: Omit<UserToSync, 'id'>): Promise<Entitlements | EntitlementsUnavailableError> {
  try {
    return await entitlements.getUserEntitlements({ sub: user.sub ?? '', email: user.email, userInfo: user.userInfo, forceRefresh: true });
  } catch (error) {
    if (!(error instanceof EntitlementsUnavailableError)) throw error;
    return error;
  }
}

/** A sync's result with the answer it worked from (none when the service was unavailable). */
export function withAnswer(result: SyncResult, answer: Entitlements | EntitlementsUnavailableError): UserSyncResult {
  return answer instanceof EntitlementsUnavailableError ? result : { ...result, entitlements: answer };
}

/** Reconciles the admin rows from an answer, keeping the answer beside the result. */
export async function syncFromAnswer(
  adminSync: AdminRoleSync,
  user: UserToSync,
  answer: Entitlements | EntitlementsUnavailableError,
  correlationId?: string,
): Promise<UserSyncResult> {
  return withAnswer(await adminSync.sync(user, answer, correlationId), answer);
}

/** Asks the service for the user's entitlements with a forced refresh, then reconciles the admin rows. */
export async function syncUser(
  deps: { entitlements: EntitlementsService; adminSync: AdminRoleSync },
  user: UserToSync,
  correlationId?: string,
): Promise<UserSyncResult> {
  return syncFromAnswer(deps.adminSync, user, await fetchForSync(deps.entitlements, user), correlationId);
}
