import type { Entitlements, EntitlementsBackend } from '../types';

/** Lets everyone in and manages no admin rights (`can_admin_maildomains: null` skips the sync). */
export class LocalEntitlementsBackend implements EntitlementsBackend {
  async getUserEntitlements(): Promise<Entitlements> {
    return { can_access: true, can_admin_maildomains: null, can_create: true };
  }
}
