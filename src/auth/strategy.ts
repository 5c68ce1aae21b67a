import * as client from 'openid-client';
import { Strategy } from 'openid-client/passport';
import type { Request } from 'express';
import type { OidcConfig } from '../config';
import { OidcEntitlementsError } from '../errors';
import { LoginRefusedError, type LoginRefusal } from './errors';

export const STRATEGY_NAME = 'oidc';

export type OidcClientConfig = Pick<OidcConfig, 'issuer' | 'clientId' | 'clientSecret' | 'redirectUri' | 'scopes' | 'allowInsecureHttp'>;

/** What the verify step hands to the login: every claim, and the ID token for RP-initiated logout. */
export interface VerifiedIdentity {
  claims: Record<string, unknown>;
  idToken?: string;
}

export type LoginVerifier = (identity: VerifiedIdentity) => Promise<Express.User>;

/** Discovery of OIDC_ISSUER (`http://` only with OIDC_ALLOW_INSECURE_HTTP). */
export async function discoverIssuer(config: OidcClientConfig): Promise<client.Configuration> {
  if (!config.issuer || !config.clientId) throw new Error('OIDC_ISSUER and OIDC_CLIENT_ID are required for the login');
  return client.discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, {
    execute: config.allowInsecureHttp ? [client.allowInsecureRequests] : [],
    timeout: 10,
  });
}

/** What Passport's `info` holds when a login is refused (`failureRedirect`, `failureMessage` use it). */
export interface LoginRefusalInfo {
  message: string;
  refusal: LoginRefusal;
}

/**
 * The Passport strategy of the login: openid-client's (authorization code + PKCE) with the redirect
 * URI always OIDC_REDIRECT_URI — never derived from the request's host, which is wrong behind
 * proxies — and a verify step that merges the ID token claims with userinfo, then applies the user
 * rules, the entitlements fetch and the admin-role sync. A refused login reaches Passport as
 * `done(null, false, { message, refusal })`, so `failureRedirect` works; only real faults are errors.
 * Get it from `createOidcEntitlements(...).strategy()`.
 */
export class OidcLoginStrategy extends Strategy {
  constructor(
    private readonly oidc: client.Configuration,
    config: OidcClientConfig,
    verifier: LoginVerifier,
  ) {
    super(
      { config: oidc, name: STRATEGY_NAME, scope: config.scopes.join(' '), callbackURL: config.redirectUri, sessionKey: 'oidc:authorization' },
      (tokens, done) => {
        this.verify(tokens, verifier).then(
          (user) => done(null, user),
          (error: unknown) => {
            if (!(error instanceof LoginRefusedError)) return done(error);
            const info: LoginRefusalInfo = { message: error.message, refusal: error.refusal };
            done(null, false, info);
          },
        );
      },
    );
  }

  /**
   * Only the query of the current URL is used (the callback URL is OIDC_REDIRECT_URI): the request's
   * Host header, which a client controls, is never read.
   */
  override currentUrl(req: Request): URL {
    return new URL(req.originalUrl ?? req.url, 'http://callback.invalid');
  }

  private async verify(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, verifier: LoginVerifier): Promise<Express.User> {
    const idClaims: Record<string, unknown> = tokens.claims() ?? {};
    const sub = typeof idClaims.sub === 'string' ? idClaims.sub : '';
    let userInfo: Record<string, unknown> = {};
    if (this.oidc.serverMetadata().userinfo_endpoint && sub) {
      userInfo = await client.fetchUserInfo(this.oidc, tokens.access_token, sub);
    }
    try {
      return await verifier({ claims: { ...idClaims, ...userInfo }, idToken: tokens.id_token });
    } catch (error) {
      if (error instanceof LoginRefusedError) throw error;
      // Past the IdP, a failure is ours (the database is down): told apart from the IdP's own errors.
      throw new OidcEntitlementsError('ERR_LOGIN_FAILED', 'the login could not be completed on our side', { cause: error });
    }
  }

  /** Where logout sends the browser: the IdP's end-session endpoint when it has one, else `redirectTo`. */
  endSessionUrl(idToken: string | undefined, redirectTo: string): string {
    if (!this.oidc.serverMetadata().end_session_endpoint) return redirectTo;
    const parameters: Record<string, string> = { post_logout_redirect_uri: redirectTo };
    if (idToken) parameters.id_token_hint = idToken;
    return client.buildEndSessionUrl(this.oidc, parameters).href;
  }
}
