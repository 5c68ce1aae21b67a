import { LRUCache } from 'lru-cache';
import type { CachedEntitlements, EntitlementsCacheStore } from './store';

/**
 * The in-process store, bounded by ENTITLEMENTS_CACHE_MAX_KEYS so memory stays flat however many
 * users log in: when full, the least recently used answer makes room. A refresh of a cached user
 * replaces its answer, full or not (a refresh is never dropped).
 */
export class MemoryCacheStore implements EntitlementsCacheStore {
  private readonly cache: LRUCache<string, CachedEntitlements>;

  constructor(maxKeys: number) {
    this.cache = new LRUCache({ max: maxKeys });
  }

  async get(key: string): Promise<CachedEntitlements | undefined> {
    return this.cache.get(key);
  }

  async set(key: string, entry: CachedEntitlements, ttlSeconds: number): Promise<void> {
    this.cache.set(key, entry, { ttl: ttlSeconds * 1000 });
  }

  get size(): number {
    return this.cache.size;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
