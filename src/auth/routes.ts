import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Passport } from 'passport';
import type { OidcConfig } from '../config';
import { apiErrorHandler } from '../api/errors';
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
  logger: Logger;
  onLogin?: (result: LoginResultLabel) => void;
}

/** LOGOUT_REDIRECT_URL as an absolute URL (the IdP needs one), relative to OIDC_REDIRECT_URI's origin. */
function absolute(url: string, base: string): string {
  return new URL(url, base).href;
}

/** docs/specification.md §7.1: `authenticate/`, `callback/`, `logout/` (GET and POST). */
export function authRoutes({ passport, strategy, oidc, logger, onLogin }: AuthRoutesDeps): Router {
  const router = Router();

  const withStrategy = (handler: (req: Request, res: Response, next: NextFunction) => void) => (req: Request, res: Response, next: NextFunction) => {
    if (!req.session) return sendError(req, res, 503, 'Sessions are unavailable: please try again later');
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
    withStrategy((req, res, next) => passport.authenticate(STRATEGY_NAME)(req, res, next)),
  );

  router.get(
    '/callback/',
    withStrategy((req, res, next) => {
      passport.authenticate(STRATEGY_NAME, (error: unknown, user: Express.User | false, info: Partial<LoginRefusalInfo> | undefined) => {
        if (!error && !user && info?.refusal) {
          onLogin?.('refused');
          logger.info({ refusal: info.refusal }, 'login refused');
          return sendError(req, res, 403, info.message ?? 'Login refused');
        }
        if (error) {
          onLogin?.('failed');
          logger.warn({ err: (error as Error).message, code: (error as { code?: string }).code }, 'login failed at the callback');
          return sendError(req, res, 400, 'Authentication failed: the login could not be completed, please start again');
        }
        if (!user) {
          onLogin?.('failed');
          logger.info({ reason: info?.message }, 'login failed at the callback');
          return sendError(req, res, 401, `Authentication failed: ${info?.message ?? 'no user'}`);
        }
        const { idToken } = user as Express.User & { idToken?: string };
        req.logIn(user, (loginError?: unknown) => {
          if (loginError) return next(loginError);
          onLogin?.('success');
          req.session.oidcIdToken = idToken;
          req.session.save((saveError?: unknown) => (saveError ? next(saveError) : res.redirect(oidc.loginRedirectUrl)));
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
  router.get('/logout/', logout);
  router.post('/logout/', logout);
  router.use(apiErrorHandler(logger));
  return router;
}
