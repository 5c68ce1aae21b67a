/** The `code` of every error the library throws (Node's `ERR_…` convention). */
export type OidcEntitlementsErrorCode = 'ERR_CONFIG' | 'ERR_LOGIN_REFUSED' | 'ERR_LOGIN_FAILED' | 'ERR_ENTITLEMENTS_UNAVAILABLE';

/**
 * The base class of the library's errors: a stable `code` to branch on, and the underlying `cause` when
 * there is one (never one that carries a secret).
 */
export class OidcEntitlementsError extends Error {
  readonly code: OidcEntitlementsErrorCode;

  constructor(code: OidcEntitlementsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
