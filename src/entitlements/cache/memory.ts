import NodeCache from 'node-cache';
import type { Logger } from '../../logging';
import type { CachedEntitlements, EntitlementsCacheStore } from './store';

/**
 * The in-process store, bounded by ENTITLEMENTS_CACHE_MAX_KEYS so memory stays flat however many
 * users log in: when full, new answers are simply not cached (expired entries are swept every minute).
 */
export class MemoryCacheStore implements EntitlementsCacheStore {
  private readonly cache: NodeCache;
  private warnedFull = false;

  constructor(
    maxKeys: number,
    private readonly logger: Logger,
  ) {
    this.cache = new NodeCache({ stdTTL: 0, checkperiod: 60, useClones: false, maxKeys, deleteOnExpire: true });
  }

  async get(key: string): Promise<CachedEntitlements | undefined> {
    return this.cache.get<CachedEntitlements>(key);
  }

  async set(key: string, entry: CachedEntitlements, ttlSeconds: number): Promise<void> {
    try {
      this.cache.set(key, entry, ttlSeconds);
      this.warnedFull = false;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ECACHEFULL') throw error;
      if (!this.warnedFull) this.logger.warn({ maxKeys: this.cache.options.maxKeys }, 'entitlements cache full: new answers are not cached');
      this.warnedFull = true;
    }
  }

  get size(): number {
    return this.cache.keys().length;
  }

  async close(): Promise<void> {
    this.cache.close();
  }
}
