import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedisClient, firstConnection } from '../../redis';
import { decodeCachedEntitlements, type CachedEntitlements, type EntitlementsCacheStore } from './store';

/** Deletes the lock only when it is still ours (it may have expired and been taken by another). */
const RELEASE_IF_HELD = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * The store shared by several instances (REDIS_URL). Commands fail fast instead of queueing while
 * Redis is away, so the service falls back to the entitlements service rather than hanging a login.
 */
export class RedisCacheStore implements EntitlementsCacheStore {
  readonly client: Redis;

  private readonly connecting: Promise<void>;

  constructor(redisUrl: string) {
    this.client = createRedisClient(redisUrl);
    this.connecting = firstConnection(this.client);
  }

  async ready(): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.client.once('ready', resolve);
      this.client.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  async get(key: string): Promise<CachedEntitlements | undefined> {
    await this.connecting;
    return decodeCachedEntitlements(await this.client.get(key));
  }

  async set(key: string, entry: CachedEntitlements, ttlSeconds: number): Promise<void> {
    await this.connecting;
    await this.client.set(key, JSON.stringify(entry), 'EX', ttlSeconds);
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | null> {
    await this.connecting;
    const token = randomUUID();
    return (await this.client.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : null;
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await this.connecting;
    await this.client.eval(RELEASE_IF_HELD, 1, key, token);
  }

  async isLocked(key: string): Promise<boolean> {
    await this.connecting;
    return (await this.client.exists(key)) === 1;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
