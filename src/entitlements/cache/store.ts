import { z } from 'zod';
import type { Entitlements } from '../types';

/** One cached answer and when it was fetched (ms since the epoch): both cache windows count from it. */
export interface CachedEntitlements {
  value: Entitlements;
  fetchedAt: number;
}

/**
 * Where answers are kept: lru-cache in one process, Redis across instances. A store shared by
 * instances may also offer a short lock, so that concurrent misses for one user on several instances
 * make one upstream request; any method may throw while the store is unreachable (the answer is then
 * fetched without it).
 */
export interface EntitlementsCacheStore {
  /** The entry under `key`, if any. */
  get(key: string): Promise<CachedEntitlements | undefined>;
  /** Keeps the entry for `ttlSeconds` (> 0). */
  set(key: string, entry: CachedEntitlements, ttlSeconds: number): Promise<void>;
  /** Takes the lock named `key` for `ttlMs`: a token when taken, `null` when another holds it. */
  acquireLock?(key: string, ttlMs: number): Promise<string | null>;
  /** Gives the lock back, if `token` still holds it. */
  releaseLock?(key: string, token: string): Promise<void>;
  /** Whether someone holds the lock named `key`. */
  isLocked?(key: string): Promise<boolean>;
  /** Closes its connections. */
  close(): Promise<void>;
}

const cachedSchema = z.object({
  value: z.looseObject({ can_access: z.boolean() }),
  fetchedAt: z.number().finite(),
});

/** Entries read back from a shared store are outside input: anything malformed is a miss. */
export function decodeCachedEntitlements(raw: string | null): CachedEntitlements | undefined {
  if (raw === null) return undefined;
  try {
    const parsed = cachedSchema.safeParse(JSON.parse(raw));
    return parsed.success ? (parsed.data as CachedEntitlements) : undefined;
  } catch {
    return undefined;
  }
}
