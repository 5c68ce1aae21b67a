import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logging';
import { clientIp, type TrustFunction } from './client-ip';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const LOGGED = Symbol('oidc-entitlements access log');

/** The route pattern that answered (`/api/v1.0/maildomains/:id/accesses/`), never the path: no ids, no query strings. */
function routeOf(req: Request): string | null {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : null;
}

/**
 * One info line per request when its response is finished: method, route pattern, status, duration,
 * client address and a correlation id (the caller's `X-Request-Id` when it is a plain token, else a new
 * one, echoed in the response). No query string (the callback's carries the login code), no header, no
 * body: nothing that names a user. Mounted more than once (the host's app and the library's routers),
 * a request is still logged once.
 */
export function accessLog({ logger, trust }: { logger: Logger; trust: TrustFunction }): RequestHandler {
  return (req, res, next) => {
    const marked = req as Request & { [LOGGED]?: true };
    if (marked[LOGGED]) return next();
    marked[LOGGED] = true;
    const started = performance.now();
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.once('finish', () => {
      logger.info(
        {
          method: req.method,
          route: routeOf(req),
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ip: clientIp(req, trust),
          requestId,
        },
        'request',
      );
    });
    next();
  };
}
