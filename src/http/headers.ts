import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** A year, with subdomains: the usual HSTS policy once a site is served over TLS only. */
const HSTS = { maxAge: 31_536_000, includeSubDomains: true };

/**
 * docs/specification.md §7.11 for the library's routes (helmet): nosniff, `Referrer-Policy: no-referrer`,
 * a Content-Security-Policy that allows nothing to load and no one to frame (the routes answer JSON,
 * redirects and bare error pages), HSTS in production; and `Cache-Control: no-store`, since these
 * answers hold user data or steer a login.
 */
export function securityHeaders({ production }: { production: boolean }): RequestHandler[] {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"] },
    },
    strictTransportSecurity: production ? HSTS : false,
  });
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  return [headers, noStore];
}

/** helmet's defaults for an HTML app (the reference server's pages), HSTS and upgrade-insecure-requests in production only. */
export function pageSecurityHeaders({ production }: { production: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: production ? [] : null } },
    strictTransportSecurity: production ? HSTS : false,
  });
}
