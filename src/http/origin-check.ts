import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logging';
import { sendError } from './errors';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const CROSS_SITE_REFUSED = 'Cross-site request refused: its origin is not trusted (CSRF_TRUSTED_ORIGINS)';

/** The origin the request was addressed to, as the browser saw it (scheme as Express reads it, Host header). */
function ownOrigin(req: Request): string | undefined {
  const host = req.get('host');
  return host ? `${req.protocol}://${host}` : undefined;
}

/** Whether a request comes from another site, by what browsers say: `Sec-Fetch-Site`, then `Origin`. */
export function isCrossSite(req: Request, trusted: ReadonlySet<string>): boolean {
  if (req.get('sec-fetch-site') === 'cross-site') return true;
  const origin = req.get('origin');
  // Browsers send Origin with every POST, PUT, PATCH and DELETE; a request without one is not a browser's
  // (or a very old one's, which SameSite=Lax and the JSON content type still guard).
  if (origin === undefined) return false;
  return !(trusted.has(origin) || origin === ownOrigin(req));
}

/**
 * Django's Origin check (docs/specification.md §7.11): a cookie-authenticated POST, PUT, PATCH or DELETE
 * from an origin that is neither the app's own — the origin of OIDC_REDIRECT_URI, or the one the request
 * was addressed to — nor in CSRF_TRUSTED_ORIGINS, or marked `Sec-Fetch-Site: cross-site`, is refused
 * 403 before any handler runs. Bearer-key routes (no session user) are not concerned.
 */
export function originCheck({ trustedOrigins, logger }: { trustedOrigins: Iterable<string>; logger: Logger }): RequestHandler {
  const trusted = new Set(trustedOrigins);
  return (req, res, next) => {
    if (!UNSAFE_METHODS.has(req.method) || !req.user || !isCrossSite(req, trusted)) return next();
    logger.warn(
      { method: req.method, path: req.path, origin: req.get('origin') ?? null, fetchSite: req.get('sec-fetch-site') ?? null },
      'cross-site request refused',
    );
    sendError(req, res, 403, CROSS_SITE_REFUSED);
  };
}
