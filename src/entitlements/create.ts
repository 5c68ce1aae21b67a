import type { Config } from '../config';
import type { Logger } from '../logging';
import { MemoryCacheStore } from './cache/memory';
import { FallbackCacheStore } from './cache/fallback';
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
  /** A store instead of the in-process one / Redis (REDIS_URL). */
  store?: EntitlementsCacheStore;
  onFetch?: (result: FetchResult) => void;
  onUpstream?: (seconds: number, ok: boolean) => void;
}

/** The configured backend behind the configured cache: Redis (the in-process store while it is down) with REDIS_URL, the in-process store otherwise. */
export function createEntitlementsService({ config, logger, backend, store, onFetch, onUpstream }: CreateEntitlementsServiceOptions): EntitlementsService {
  const { cache } = config.entitlements;
  const inProcess = () => new MemoryCacheStore(cache.maxKeys);
  return new EntitlementsService({
    backend: backend ?? createEntitlementsBackend(config.entitlements, logger),
    store: store ?? (config.redisUrl ? new FallbackCacheStore(new RedisCacheStore(config.redisUrl), inProcess(), logger) : inProcess()),
    // The cross-instance lock outlives the longest upstream call a holder may make.
    lockTtlMs: config.entitlements.deployCenter ? (config.entitlements.deployCenter.timeout + 1) * 1000 : undefined,
    cache,
    logger,
    onFetch,
    onUpstream,
  });
}
