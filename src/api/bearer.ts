import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

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
