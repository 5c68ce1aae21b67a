import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** A year, with subdomains: the usual HSTS policy once a site is served over TLS only. */
const HSTS = { maxAge: 31_536_000, includeSubDomains: true };

/**
 * Not helmet's `no-referrer`: under it a browser sends `Origin: null` with a page's form POSTs, even
 * to the page's own origin, and the origin check (origin-check.ts) would refuse the app's own logout
 * form. This one (the browsers' default) keeps the origin and never leaks a path to another site.
 */
const REFERRER_POLICY = { policy: 'strict-origin-when-cross-origin' as const };

/**
 * docs/specification.md §7.11 for the library's routes (helmet): nosniff, a Referrer-Policy,
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
    referrerPolicy: REFERRER_POLICY,
  });
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  return [headers, noStore];
}

/**
 * helmet's defaults for an HTML app (the reference server's pages), HSTS and upgrade-insecure-requests in
 * production only. `formTargets`: origins a form may end up at besides the page's own — the IdP's, since
 * the logout form is answered with a redirect to its end-session endpoint, and `form-action` covers redirects.
 */
export function pageSecurityHeaders({ production, formTargets = [] }: { production: boolean; formTargets?: string[] }): RequestHandler {
  return helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: production ? [] : null, formAction: ["'self'", ...formTargets] } },
    strictTransportSecurity: production ? HSTS : false,
    referrerPolicy: REFERRER_POLICY,
  });
}
