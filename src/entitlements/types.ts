import { OidcEntitlementsError } from '../errors';

/**
 * What an entitlements backend answers for a user (docs/specification.md §4). Keys other than those named here
 * (`can_*` flags and their `*_reason`) are kept as the service sent them.
 */
export interface Entitlements {
  can_access: boolean;
  can_access_reason?: string;
  /**
   * The mail domains the user may administer: a list of names when the backend manages admin rights,
   * `null` when it does not (the sync is skipped). Any other value is kept as received and reported by
   * the sync as invalid, so it is typed `unknown` until then.
   */
  can_admin_maildomains: unknown;
  can_create?: boolean;
  [key: string]: unknown;
}

/** Whose entitlements are asked for. */
export interface EntitlementsRequest {
  /** The OIDC subject: the cache key. An empty sub is never cached. */
  sub: string;
  /** The user's email (DeployCenter's `account_email`). */
  email: string | null;
  /** The userinfo claims (ID token merged with userinfo): backends forward the ones they are told to. */
  userInfo?: Record<string, unknown>;
  /** Skip the fresh cache and ask the service (the login does). */
  forceRefresh?: boolean;
}

/**
 * Where entitlements come from. A backend answers, or throws {@link EntitlementsUnavailableError} when
 * it cannot; the library caches its answers. Pass one of yours as `backend`, or name its module in
 * ENTITLEMENTS_BACKEND (its class is constructed with the parameters and `{ apiKey, logger }`).
 */
export interface EntitlementsBackend {
  /** The user's entitlements, as the service says them now. */
  getUserEntitlements(request: EntitlementsRequest): Promise<Entitlements>;
}

/** Why no answer could be had. */
export type UnavailableReason = 'timeout' | 'connection' | 'http_status' | 'invalid_json' | 'invalid_body' | 'backend_error';

/**
 * No answer could be had (service down, timeout, unusable body) and no stale answer was left to serve:
 * code `ERR_ENTITLEMENTS_UNAVAILABLE`. A backend throws it; any other error a backend throws is
 * reported as this one with `reason: 'backend_error'` and the original as `cause`.
 */
export class EntitlementsUnavailableError extends OidcEntitlementsError {
  constructor(
    /** What failed, as a stable word. */
    readonly reason: UnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_ENTITLEMENTS_UNAVAILABLE', message, options);
  }
}
