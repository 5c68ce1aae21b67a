import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Passport } from 'passport';
import type { OidcConfig } from '../config';
import { apiErrorHandler } from '../api/errors';
import { OidcEntitlementsError } from '../errors';
import { sendError } from '../http/errors';
import type { Logger } from '../logging';
import type { LoginResultLabel } from '../metrics';
import { SESSION_COOKIE } from './session';
import { STRATEGY_NAME, type LoginRefusalInfo, type OidcLoginStrategy } from './strategy';

declare module 'express-session' {
  interface SessionData {
    /** Kept for RP-initiated logout (`id_token_hint`). */
    oidcIdToken?: string;
  }
}

export interface AuthRoutesDeps {
  passport: InstanceType<typeof Passport>;
  /** Resolves once the strategy is registered (discovery done); rejects while the IdP is unreachable. */
  strategy: () => Promise<OidcLoginStrategy>;
  oidc: Pick<OidcConfig, 'loginRedirectUrl' | 'logoutRedirectUrl' | 'redirectUri'>;
  /** SESSION_COOKIE_AGE: a logged-in session's lifetime, from the login. */
  sessionAgeSeconds: number;
  logger: Logger;
  onLogin?: (result: LoginResultLabel) => void;
  /** Run first on every route: access log, security headers, the origin check. */
  guards: RequestHandler[];
  /** RATE_LIMIT_PER_MINUTE on `authenticate/` and on `callback/`. */
  limits: { authenticate: RequestHandler; callback: RequestHandler };
}

/** LOGOUT_REDIRECT_URL as an absolute URL (the IdP needs one), relative to OIDC_REDIRECT_URI's origin. */
function absolute(url: string, base: string): string {
  return new URL(url, base).href;
}

const CROSS_SITE_LOGOUT = 'Logout refused: it was requested from another site; log out from the app itself';
const SESSIONS_UNAVAILABLE = 'Sessions are unavailable: please try again later';

/**
 * Makes the redirect to the IdP wait for the session (the login's state) to be saved, and answers 503
 * instead when it cannot be: a login whose state is lost would only fail at the callback. Passport's
 * strategy ends the response itself, so `res.end` is where the redirect can be held back.
 */
function saveStateBeforeRedirect(req: Request, res: Response, logger: Logger): void {
  const end = res.end as (...args: unknown[]) => Response;
  res.end = ((...args: unknown[]) => {
    res.end = end as Response['end'];
    if (res.statusCode < 300 || res.statusCode >= 400 || !req.session) return end.apply(res, args);
    req.session.save((error?: unknown) => {
      if (!error) return end.apply(res, args);
      logger.warn({ err: (error as Error).message }, 'login not started: its state could not be saved (session store unreachable)');
      delete (req as { session?: unknown }).session; // nothing left for express-session to save
      res.removeHeader('Location');
      res.removeHeader('Content-Length');
      sendError(req, res, 503, SESSIONS_UNAVAILABLE);
    });
    return res;
  }) as Response['end'];
}

/** docs/specification.md §7.1: `authenticate/`, `callback/`, `logout/` (GET and POST). */
export function authRoutes({ passport, strategy, oidc, sessionAgeSeconds, logger, onLogin, guards, limits }: AuthRoutesDeps): Router {
  const router = Router();
  router.use(['/authenticate/', '/callback/', '/logout/'], ...guards);

  const withStrategy = (handler: (req: Request, res: Response, next: NextFunction) => void) => (req: Request, res: Response, next: NextFunction) => {
    if (!req.session) return sendError(req, res, 503, SESSIONS_UNAVAILABLE);
    strategy().then(
      () => handler(req, res, next),
      (error: unknown) => {
        logger.error({ err: (error as Error).message }, 'identity provider unreachable (discovery failed)');
        sendError(req, res, 503, 'The identity provider is unreachable: please try again later');
      },
    );
  };

  router.get(
    '/authenticate/',
    limits.authenticate,
    withStrategy((req, res, next) => {
      saveStateBeforeRedirect(req, res, logger);
      passport.authenticate(STRATEGY_NAME)(req, res, next);
    }),
  );

  router.get(
    '/callback/',
    limits.callback,
    (req, res, next) => {
      // Without `code` or `error` this is no answer from the IdP: openid-client would start a new login.
      if (req.query.code === undefined && req.query.error === undefined)
        return sendError(req, res, 400, 'Not an answer of the identity provider: start the login again');
      next();
    },
    withStrategy((req, res, next) => {
      // A login that did not succeed leaves no session behind (its state is spent either way).
      const fail = (status: number, detail: string) => req.session.destroy(() => sendError(req, res, status, detail));
      passport.authenticate(STRATEGY_NAME, (error: unknown, user: Express.User | false, info: Partial<LoginRefusalInfo> | undefined) => {
        if (!error && !user && info?.refusal) {
          onLogin?.('refused');
          logger.info({ refusal: info.refusal }, 'login refused');
          return fail(403, info.message ?? 'Login refused');
        }
        if (error instanceof OidcEntitlementsError && error.code === 'ERR_LOGIN_FAILED') {
          onLogin?.('failed');
          logger.error({ err: error.cause }, 'login failed on our side (after the identity provider vouched for the user)');
          return fail(503, 'The login could not be completed: please try again later');
        }
        if (error) {
          onLogin?.('failed');
          const { code, error: idpError, error_description: idpErrorDescription } = error as { code?: string; error?: string; error_description?: string };
          logger.warn({ err: (error as Error).message, code, idpError, idpErrorDescription }, 'login failed at the callback');
          return fail(400, 'Authentication failed: the login could not be completed, please start again');
        }
        if (!user) {
          onLogin?.('failed');
          logger.info({ reason: info?.message }, 'login failed at the callback');
          return fail(401, `Authentication failed: ${info?.message ?? 'no user'}`);
        }
        const { idToken } = user as Express.User & { idToken?: string };
        // Set before Passport regenerates the session, which carries them over (keepSessionInfo) into
        // the one write it makes: the ID token for logout, and a lifetime of SESSION_COOKIE_AGE from now.
        req.session.oidcIdToken = idToken;
        req.session.cookie.maxAge = sessionAgeSeconds * 1000;
        req.logIn(user, { session: true, keepSessionInfo: true }, (loginError?: unknown) => {
          if (loginError) return next(loginError);
          onLogin?.('success');
          res.redirect(oidc.loginRedirectUrl);
        });
      })(req, res, next);
    }),
  );

  const logout = (req: Request, res: Response, next: NextFunction) => {
    const idToken = req.session?.oidcIdToken;
    const redirectTo = absolute(oidc.logoutRedirectUrl, oidc.redirectUri);
    const leave = () => {
      res.clearCookie(SESSION_COOKIE);
      strategy().then(
        (registered) => res.redirect(303, registered.endSessionUrl(idToken, redirectTo)),
        () => res.redirect(303, redirectTo),
      );
    };
    if (!req.session) return leave();
    req.logout({ keepSessionInfo: false }, (logoutError?: unknown) => {
      if (logoutError) return next(logoutError);
      req.session.destroy((destroyError?: unknown) => (destroyError ? next(destroyError) : leave()));
    });
  };
  router.get('/logout/', (req, res, next) => {
    // A link or an image on another site must not end the session (the POST is origin-checked).
    if (req.get('sec-fetch-site') === 'cross-site') return sendError(req, res, 403, CROSS_SITE_LOGOUT);
    logout(req, res, next);
  });
  router.post('/logout/', logout);
  router.use(apiErrorHandler(logger));
  return router;
}
