import { z } from 'zod';
import type { Entitlements } from '../types';

/** One cached answer and when it was fetched (ms since the epoch): both cache windows count from it. */
export interface CachedEntitlements {
  value: Entitlements;
  fetchedAt: number;
}

/** Where answers are kept: node-cache in one process, Redis across instances. */
export interface EntitlementsCacheStore {
  get(key: string): Promise<CachedEntitlements | undefined>;
  /** Keeps the entry for `ttlSeconds` (> 0). */
  set(key: string, entry: CachedEntitlements, ttlSeconds: number): Promise<void>;
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
