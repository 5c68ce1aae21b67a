import type { Config } from '../config';
import type { Logger } from '../logging';
import { MemoryCacheStore } from './cache/memory';
import { RedisCacheStore } from './cache/redis';
import type { EntitlementsCacheStore } from './cache/store';
import { createEntitlementsBackend } from './factory';
import { EntitlementsService, type FetchResult } from './service';
import type { EntitlementsBackend } from './types';

export interface CreateEntitlementsServiceOptions {
  config: Pick<Config, 'entitlements' | 'redisUrl'>;
  logger: Logger;
  /** A backend instance instead of the one ENTITLEMENTS_BACKEND names. */
  backend?: EntitlementsBackend;
  /** A store instead of node-cache / Redis (REDIS_URL). */
  store?: EntitlementsCacheStore;
  onFetch?: (result: FetchResult) => void;
  onUpstream?: (seconds: number, ok: boolean) => void;
}

/** The configured backend behind the configured cache: Redis with REDIS_URL, node-cache otherwise. */
export function createEntitlementsService({ config, logger, backend, store, onFetch, onUpstream }: CreateEntitlementsServiceOptions): EntitlementsService {
  const { cache } = config.entitlements;
  return new EntitlementsService({
    backend: backend ?? createEntitlementsBackend(config.entitlements, logger),
    store: store ?? (config.redisUrl ? new RedisCacheStore(config.redisUrl) : new MemoryCacheStore(cache.maxKeys, logger)),
    cache,
    logger,
    onFetch,
    onUpstream,
  });
}
