import { OidcEntitlementsError } from '../errors';

/** Why a login was refused. */
export type LoginRefusal =
  'missing_sub' | 'missing_essential_claims' | 'ambiguous_email' | 'email_already_associated' | 'user_disabled' | 'user_unknown' | 'entitlements_unavailable';

/**
 * A login refused by the user rules (or by `ENTITLEMENTS_SYNC_ON_UNAVAILABLE=deny`), code
 * `ERR_LOGIN_REFUSED`: a 403, never a session. Passport receives it as `done(null, false, info)`.
 */
export class LoginRefusedError extends OidcEntitlementsError {
  constructor(
    /** Why, as a stable word. */
    readonly refusal: LoginRefusal,
    message: string,
  ) {
    super('ERR_LOGIN_REFUSED', message);
  }
}
