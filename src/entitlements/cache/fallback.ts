import type { Logger } from '../../logging';
import type { CachedEntitlements, EntitlementsCacheStore } from './store';

/**
 * A shared store (Redis) with the in-process one behind it: while the shared store is unreachable,
 * answers are cached in-process and no cross-instance lock is taken (coalescing stays per process);
 * the shared store is tried again at every call, so it is used again as soon as it answers. The
 * outage is logged once when it starts and once when it ends.
 */
export class FallbackCacheStore implements EntitlementsCacheStore {
  private down = false;

  constructor(
    private readonly shared: EntitlementsCacheStore,
    private readonly local: EntitlementsCacheStore,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<CachedEntitlements | undefined> {
    return this.either(
      () => this.shared.get(key),
      () => this.local.get(key),
    );
  }

  async set(key: string, entry: CachedEntitlements, ttlSeconds: number): Promise<void> {
    return this.either(
      () => this.shared.set(key, entry, ttlSeconds),
      () => this.local.set(key, entry, ttlSeconds),
    );
  }

  /** `null` (someone else holds it) only when the shared store says so; `''` (no lock to give back) without it. */
  async acquireLock(key: string, ttlMs: number): Promise<string | null> {
    return this.either(
      async () => (this.shared.acquireLock ? this.shared.acquireLock(key, ttlMs) : ''),
      async () => '',
    );
  }

  async releaseLock(key: string, token: string): Promise<void> {
    if (!token) return;
    await this.either(
      async () => this.shared.releaseLock?.(key, token),
      async () => undefined,
    );
  }

  async isLocked(key: string): Promise<boolean> {
    return this.either(
      async () => (await this.shared.isLocked?.(key)) ?? false,
      async () => false,
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.local.close()]);
  }

  private async either<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await shared();
    } catch (error) {
      if (!this.down) this.logger.warn({ err: (error as Error).message }, 'Redis unreachable: entitlements cached in-process until it returns');
      this.down = true;
      return local();
    }
    if (this.down) this.logger.info('Redis reachable again: shared entitlements cache in use');
    this.down = false;
    return result;
  }
}
