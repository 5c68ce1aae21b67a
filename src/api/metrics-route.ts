import type { RequestHandler } from 'express';
import { sendError } from '../http/errors';
import { checkBearer } from './bearer';

/**
 * `/metrics` on the app's port (docs/specification.md §3): with METRICS_API_KEY only for that bearer key;
 * without one, open in development and absent (404) in production. A refused key is answered 404 too
 * (nothing tells a prober the route exists) and counts against the failed-key rate limit.
 */
export function protectedMetrics({
  handler,
  apiKey,
  production,
  bearerLimit,
}: {
  handler: RequestHandler;
  apiKey?: string;
  production: boolean;
  bearerLimit: RequestHandler;
}): RequestHandler {
  if (!apiKey) return production ? (req, res) => sendError(req, res, 404, 'Not found') : handler;
  return (req, res, next) => {
    bearerLimit(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (!checkBearer(req, res, apiKey)) return sendError(req, res, 404, 'Not found');
      handler(req, res, next);
    });
  };
}
