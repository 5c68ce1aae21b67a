import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { markBearerRefused } from '../http/rate-limit';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * `Authorization: Bearer <key>` against the configured key, in constant time (digests of equal length
 * are compared, so neither the key nor its length leaks). No key configured never matches.
 */
export function bearerMatches(req: Request, key: string | undefined): boolean {
  const header = req.get('authorization') ?? '';
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
  const matches = timingSafeEqual(digest(given), digest(key ?? ''));
  return Boolean(key) && given.length > 0 && matches;
}

/** {@link bearerMatches}, a refusal marked for the failed-key rate limit (which logs it). */
export function checkBearer(req: Request, res: Response, key: string | undefined): boolean {
  const matches = bearerMatches(req, key);
  if (!matches) markBearerRefused(res);
  return matches;
}
