import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { Logger } from '../logging';
import { firstIssue } from './schemas';

/** An API answer other than 2xx: `{"detail": ...}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export const NOT_AUTHENTICATED = 'Authentication credentials were not provided.';
export const PERMISSION_DENIED = 'You do not have permission to perform this action.';
export const NOT_FOUND = 'Not found.';

/** Parses outside input with a schema; a failure is a 400 naming the first problem. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiError(400, firstIssue(result.error));
  return result.data;
}

export const requireUser: RequestHandler = (req, _res, next) => {
  next(req.user ? undefined : new ApiError(401, NOT_AUTHENTICATED));
};

/**
 * The API's last word: ApiError as is, body-parser's malformed JSON (400) and oversized bodies (413),
 * and anything else a logged 500 without a stack trace.
 */
export function apiErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (error instanceof ApiError) {
      res.status(error.status).json({ detail: error.detail });
      return;
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res.status(400).json({ detail: 'Malformed JSON in the request body' });
      return;
    }
    if (type === 'entity.too.deep') {
      res.status(400).json({ detail: (error as Error).message });
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json({ detail: 'Request body too large (1 MiB at most)' });
      return;
    }
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ detail: (error as Error).message });
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'API request failed');
    res.status(500).json({ detail: 'Internal error' });
  };
}
