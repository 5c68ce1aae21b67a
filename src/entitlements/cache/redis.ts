import type { Redis } from 'ioredis';
import { createRedisClient } from '../../redis';
import { decodeCachedEntitlements, type CachedEntitlements, type EntitlementsCacheStore } from './store';

/**
 * The store shared by several instances (REDIS_URL). Commands fail fast instead of queueing while
 * Redis is away, so the service falls back to the entitlements service rather than hanging a login.
 */
export class RedisCacheStore implements EntitlementsCacheStore {
  readonly client: Redis;

  constructor(redisUrl: string) {
    this.client = createRedisClient(redisUrl);
  }

  async ready(): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.client.once('ready', resolve);
      this.client.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  async get(key: string): Promise<CachedEntitlements | undefined> {
    return decodeCachedEntitlements(await this.client.get(key));
  }

  async set(key: string, entry: CachedEntitlements, ttlSeconds: number): Promise<void> {
    await this.client.set(key, JSON.stringify(entry), 'EX', ttlSeconds);
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
