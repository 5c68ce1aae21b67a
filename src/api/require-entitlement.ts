import type { RequestHandler } from 'express';
import type { EntitlementsService } from '../entitlements/service';
import { EntitlementsUnavailableError } from '../entitlements/types';

export const ACCESS_DENIED = 'Access denied by entitlements policy';
export const ENTITLEMENTS_UNAVAILABLE = 'Entitlements service unavailable';

/**
 * docs/specification.md §5.3: lets a request through when the user's (cached) answer grants `name`. Anonymous
 * requests pass (the route answers 401), superusers pass; a refusal is 403, an unavailable service 503
 * (fail closed, cached answers used). Answers are JSON `{"detail": ...}`.
 */
export function requireEntitlement(entitlements: EntitlementsService, name = 'can_access'): RequestHandler {
  return async (req, res, next) => {
    const user = req.user;
    if (!user || user.isSuperuser) return next();
    try {
      const answer = await entitlements.getUserEntitlements({ sub: user.sub ?? '', email: user.email });
      if (answer[name] === true) return next();
      res.status(403).json({ detail: ACCESS_DENIED });
    } catch (error) {
      if (!(error instanceof EntitlementsUnavailableError)) return next(error);
      res.status(503).json({ detail: ENTITLEMENTS_UNAVAILABLE });
    }
  };
}
