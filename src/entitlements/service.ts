import { performance } from 'node:perf_hooks';
import type { CacheConfig } from '../config';
import { userLabel, type Logger } from '../logging';
import type { CachedEntitlements, EntitlementsCacheStore } from './cache/store';
import { EntitlementsUnavailableError, type Entitlements, type EntitlementsBackend, type EntitlementsRequest } from './types';

/** The cross-instance lock's lifetime for a backend without a timeout of its own: 10 s, plus a second. */
const DEFAULT_LOCK_TTL_MS = 11_000;
/** How often an instance waiting for another's answer looks for it. */
const LOCK_POLL_MS = 20;

/** How an answer was obtained: for logs and metrics. */
export type FetchResult = 'fresh_hit' | 'miss' | 'refresh' | 'coalesced' | 'stale_served' | 'unavailable' | 'uncached';

export interface EntitlementsServiceOptions {
  backend: EntitlementsBackend;
  store: EntitlementsCacheStore;
  cache: CacheConfig;
  /** How long a cross-instance lock is held at most (the store's `acquireLock`), and how long others wait for it; 11 s by default. */
  lockTtlMs?: number;
  logger: Logger;
  /** Called once per request with how it was answered. */
  onFetch?: (result: FetchResult) => void;
  /** Called after every call to the backend with its duration. */
  onUpstream?: (seconds: number, ok: boolean) => void;
  now?: () => number;
}

/**
 * The backend behind the cache of docs/specification.md §4: fresh for `timeout` seconds after the fetch, served stale
 * up to `staleTimeout` seconds after it when the service fails, failures never cached, and concurrent
 * misses for one user sharing one upstream request.
 */
export class EntitlementsService {
  private readonly inFlight = new Map<string, Promise<Entitlements>>();
  private readonly now: () => number;
  /** A cache outage is logged when it starts and when it ends, not at every request. */
  private cacheDown = false;

  constructor(private readonly options: EntitlementsServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  cacheKey(sub: string): string {
    return `${this.options.cache.prefix}:entitlements:user:${sub}`;
  }

  /** Throws {@link EntitlementsUnavailableError} when no answer, fresh or stale, can be had. */
  async getUserEntitlements(request: EntitlementsRequest): Promise<Entitlements> {
    if (!request.sub) return this.fetchUncached(request);
    const key = this.cacheKey(request.sub);
    const pending = this.inFlight.get(key);
    if (pending) return pending;

    const cached = await this.read(key);
    if (!request.forceRefresh && cached && this.ageSeconds(cached) < this.options.cache.timeout) {
      this.options.onFetch?.('fresh_hit');
      return cached.value;
    }
    const joined = this.inFlight.get(key);
    if (joined) return joined;

    const fetching = this.fetchOnce(key, request, cached).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, fetching);
    return fetching;
  }

  /**
   * One upstream request for concurrent misses across instances: the instance that takes the store's
   * lock fetches; the others wait for its answer to land in the store, and fetch themselves when it
   * does not (the holder failed, or the lock expired). Without a lock (none offered, store down) every
   * instance fetches, coalesced within its own process.
   */
  private async fetchOnce(key: string, request: EntitlementsRequest, cached: CachedEntitlements | undefined): Promise<Entitlements> {
    const since = this.now();
    const lockKey = `${key}:lock`;
    const token = await this.tryLock(lockKey);
    if (token === null) {
      const shared = await this.waitForHolder(key, lockKey, since, cached);
      if (shared) {
        this.options.onFetch?.('coalesced');
        return shared.value;
      }
    }
    try {
      return await this.fetchAndStore(key, request, cached);
    } finally {
      if (token) await this.options.store.releaseLock?.(lockKey, token).catch(() => undefined);
    }
  }

  /** A token when this instance holds the lock, `null` when another does, `undefined` when there is no lock to take. */
  private async tryLock(lockKey: string): Promise<string | null | undefined> {
    if (!this.options.store.acquireLock) return undefined;
    try {
      return await this.options.store.acquireLock(lockKey, this.options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS);
    } catch {
      return undefined;
    }
  }

  /** The holder's answer once it is stored (newer than `before`, or fetched since `since`); undefined when the holder gave up. */
  private async waitForHolder(key: string, lockKey: string, since: number, before: CachedEntitlements | undefined): Promise<CachedEntitlements | undefined> {
    const isNew = (entry: CachedEntitlements | undefined) => entry !== undefined && (entry.fetchedAt >= since || entry.fetchedAt !== before?.fetchedAt);
    const deadline = performance.now() + (this.options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS);
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      const entry = await this.read(key);
      if (isNew(entry)) return entry;
      const held = await this.options.store.isLocked?.(lockKey).catch(() => false);
      if (!held) {
        const last = await this.read(key); // the holder may have stored its answer just before letting go
        return isNew(last) ? last : undefined;
      }
    }
    return undefined;
  }

  private async fetchUncached(request: EntitlementsRequest): Promise<Entitlements> {
    try {
      const value = await this.callBackend(request);
      this.options.onFetch?.('uncached');
      return value;
    } catch (error) {
      this.options.onFetch?.('unavailable');
      throw error;
    }
  }

  private async fetchAndStore(key: string, request: EntitlementsRequest, cached: CachedEntitlements | undefined): Promise<Entitlements> {
    let value: Entitlements;
    try {
      value = await this.callBackend(request);
    } catch (error) {
      if (cached && this.ageSeconds(cached) < this.options.cache.staleTimeout) {
        this.options.logger.warn(
          { user: userLabel(request.email), ageSeconds: Math.round(this.ageSeconds(cached)) },
          'entitlements service unavailable: serving the last good answer (stale)',
        );
        this.options.onFetch?.('stale_served');
        return cached.value;
      }
      this.options.onFetch?.('unavailable');
      throw error;
    }
    this.options.onFetch?.(request.forceRefresh ? 'refresh' : 'miss');
    await this.write(key, { value, fetchedAt: this.now() });
    return value;
  }

  /** Any failure of a backend, typed or not, is an unavailable service: a login never sees a raw error. */
  private async callBackend(request: EntitlementsRequest): Promise<Entitlements> {
    const started = performance.now();
    try {
      const answer = await this.options.backend.getUserEntitlements(request);
      this.options.onUpstream?.((performance.now() - started) / 1000, true);
      return answer;
    } catch (error) {
      this.options.onUpstream?.((performance.now() - started) / 1000, false);
      if (error instanceof EntitlementsUnavailableError) throw error;
      this.options.logger.error({ user: userLabel(request.email), err: error }, 'entitlements backend failed');
      throw new EntitlementsUnavailableError('backend_error', 'the entitlements backend failed', { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.options.store.close();
  }

  private ageSeconds(entry: CachedEntitlements): number {
    return (this.now() - entry.fetchedAt) / 1000;
  }

  private cacheWorked(): void {
    if (!this.cacheDown) return;
    this.cacheDown = false;
    this.options.logger.info('entitlements cache reachable again');
  }

  private cacheFailed(error: unknown): void {
    if (this.cacheDown) return;
    this.cacheDown = true;
    this.options.logger.warn({ err: (error as Error).message }, 'entitlements cache unreachable: bypassed until it returns');
  }

  /** A cache that cannot be read is a miss, never a failed login. */
  private async read(key: string): Promise<CachedEntitlements | undefined> {
    try {
      const entry = await this.options.store.get(key);
      this.cacheWorked();
      return entry;
    } catch (error) {
      this.cacheFailed(error);
      return undefined;
    }
  }

  private async write(key: string, entry: CachedEntitlements): Promise<void> {
    if (this.options.cache.staleTimeout <= 0) return;
    try {
      await this.options.store.set(key, entry, this.options.cache.staleTimeout);
      this.cacheWorked();
    } catch (error) {
      this.cacheFailed(error);
    }
  }
}
