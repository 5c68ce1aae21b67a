export type LoginRefusal =
  | 'missing_sub'
  | 'missing_essential_claims'
  | 'ambiguous_email'
  | 'email_already_associated'
  | 'user_disabled'
  | 'user_unknown'
  | 'entitlements_unavailable';

/** A login refused by the rules of DESIGN §6 (or by `ENTITLEMENTS_SYNC_ON_UNAVAILABLE=deny`): a 403, never a session. */
export class LoginRefusedError extends Error {
  constructor(
    readonly refusal: LoginRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'LoginRefusedError';
  }
}
