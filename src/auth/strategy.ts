import * as client from 'openid-client';
import { Strategy, type AuthenticateOptions } from 'openid-client/passport';
import type { Request } from 'express';
import type { OidcConfig, TokenEndpointAuthMethod } from '../config';
import { OidcEntitlementsError } from '../errors';
import { LoginRefusedError, type LoginRefusal } from './errors';

export const STRATEGY_NAME = 'oidc';

export type OidcClientConfig = Pick<
  OidcConfig,
  'issuer' | 'clientId' | 'clientSecret' | 'redirectUri' | 'scopes' | 'allowInsecureHttp' | 'useNonce' | 'tokenEndpointAuthMethod'
>;

/** What the verify step hands to the login: every claim, and the ID token for RP-initiated logout. */
export interface VerifiedIdentity {
  claims: Record<string, unknown>;
  idToken?: string;
}

export type LoginVerifier = (identity: VerifiedIdentity) => Promise<Express.User>;

/** The token endpoint auth method when none is configured: the OAuth default when the IdP allows it. */
export function defaultAuthMethod(supported: string[] | undefined): TokenEndpointAuthMethod {
  return !supported || supported.length === 0 || supported.includes('client_secret_basic') ? 'client_secret_basic' : 'client_secret_post';
}

/** Discovery of OIDC_ISSUER (`http://` only with OIDC_ALLOW_INSECURE_HTTP), and the client's authentication. */
export async function discoverIssuer(config: OidcClientConfig): Promise<client.Configuration> {
  if (!config.issuer || !config.clientId) throw new Error('OIDC_ISSUER and OIDC_CLIENT_ID are required for the login');
  const execute = config.allowInsecureHttp ? [client.allowInsecureRequests] : [];
  const discovered = await client.discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, { execute, timeout: 10 });
  if (!config.clientSecret) return discovered;
  const server = discovered.serverMetadata();
  const method = config.tokenEndpointAuthMethod ?? defaultAuthMethod(server.token_endpoint_auth_methods_supported);
  const auth = method === 'client_secret_basic' ? client.ClientSecretBasic(config.clientSecret) : client.ClientSecretPost(config.clientSecret);
  const configuration = new client.Configuration(server, config.clientId, config.clientSecret, auth);
  for (const apply of execute) apply(configuration);
  configuration.timeout = 10;
  return configuration;
}

/** Where a session keeps the login attempts under way, by `state` (two tabs may log in at once). */
const PENDING_KEY = 'oidc:pending';
/** The single slot openid-client's strategy reads and writes. */
const SLOT_KEY = 'oidc:authorization';
/** Attempts kept per session at most: the oldest is dropped beyond that. */
const PENDING_MAX = 10;

type PendingAttempts = Record<string, { state?: string }>;
type SessionWithAttempts = Record<string, unknown> & { [PENDING_KEY]?: PendingAttempts };

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
  private readonly useNonce: boolean;

  constructor(
    private readonly oidc: client.Configuration,
    config: OidcClientConfig,
    verifier: LoginVerifier,
  ) {
    super({ config: oidc, name: STRATEGY_NAME, scope: config.scopes.join(' '), callbackURL: config.redirectUri, sessionKey: SLOT_KEY }, (tokens, done) => {
      this.verify(tokens, verifier).then(
        (user) => done(null, user),
        (error: unknown) => {
          if (!(error instanceof LoginRefusedError)) return done(error);
          const info: LoginRefusalInfo = { message: error.message, refusal: error.refusal };
          done(null, false, info);
        },
      );
    });
    this.useNonce = config.useNonce;
  }

  /**
   * Every authorization request carries a `state` (and, with OIDC_USE_NONCE, a `nonce`, checked in
   * the ID token): some IdPs refuse a request without a nonce, and the state tells a callback which of
   * a session's attempts it answers.
   */
  override authorizationRequestParams<TOptions extends AuthenticateOptions>(req: Request, options: TOptions): URLSearchParams {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options) ?? {});
    params.set('state', client.randomState());
    if (this.useNonce) params.set('nonce', client.randomNonce());
    return params;
  }

  /**
   * openid-client keeps one attempt per session (PKCE verifier, nonce, state), so a second tab's login
   * would overwrite the first's. Each attempt is moved into a map by its state when the browser leaves
   * for the IdP, and put back in the slot when the callback with that state arrives.
   */
  override authenticate(req: Request, options: AuthenticateOptions): void {
    const session = req.session as unknown as SessionWithAttempts | undefined;
    if (session) {
      const query = this.currentUrl(req).searchParams;
      if (query.has('code') || query.has('error')) {
        const state = query.get('state') ?? '';
        const pending = session[PENDING_KEY] ?? {};
        session[SLOT_KEY] = pending[state];
        delete pending[state];
      } else {
        const self = this as unknown as { redirect(url: string, status?: number): void };
        const redirect = self.redirect.bind(self);
        self.redirect = (url, status) => {
          const attempt = session[SLOT_KEY] as { state?: string } | undefined;
          delete session[SLOT_KEY];
          if (attempt?.state) {
            const kept = Object.entries(session[PENDING_KEY] ?? {}).slice(-(PENDING_MAX - 1));
            session[PENDING_KEY] = Object.fromEntries([...kept, [attempt.state, attempt]]);
          }
          redirect(url, status);
        };
      }
    }
    super.authenticate(req, options);
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
