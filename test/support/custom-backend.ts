import type { Entitlements, EntitlementsBackend } from '../../src/entitlements/types';

/** A custom backend as an operator would write one (ENTITLEMENTS_BACKEND=./path/to/module). */
export default class CustomBackend implements EntitlementsBackend {
  constructor(private readonly parameters: Record<string, unknown>) {}

  async getUserEntitlements(): Promise<Entitlements> {
    return { can_access: true, can_admin_maildomains: ['custom.fr'], parameters: this.parameters };
  }
}
