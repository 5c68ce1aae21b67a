import type { EntitlementsService } from '../entitlements/service';
import { EntitlementsUnavailableError, type Entitlements } from '../entitlements/types';
import type { AdminRoleSync, SyncResult } from './admin-sync';

export interface UserToSync {
  id: string;
  sub: string | null;
  email: string | null;
  /** Claims of the login (forwarded to the backend as configured); none for a resync without login. */
  userInfo?: Record<string, unknown>;
}

export interface UserSyncResult extends SyncResult {
  /** The answer the sync used (fresh, or stale when the service failed); absent when unavailable. */
  entitlements?: Entitlements;
}

/** Asks the service for the user's entitlements with a forced refresh, then reconciles the admin rows. */
export async function syncUser(
  deps: { entitlements: EntitlementsService; adminSync: AdminRoleSync },
  user: UserToSync,
  correlationId?: string,
): Promise<UserSyncResult> {
  let answer: Entitlements | EntitlementsUnavailableError;
  try {
    answer = await deps.entitlements.getUserEntitlements({ sub: user.sub ?? '', email: user.email, userInfo: user.userInfo, forceRefresh: true });
  } catch (error) {
    if (!(error instanceof EntitlementsUnavailableError)) throw error;
    answer = error;
  }
  const result = await deps.adminSync.sync(user, answer, correlationId);
  return answer instanceof EntitlementsUnavailableError ? result : { ...result, entitlements: answer };
}
