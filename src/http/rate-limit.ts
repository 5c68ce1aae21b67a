import type { RequestHandler } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit, type Options, type Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from '../logging';
import { firstConnection } from '../redis';
import { clientIp, type TrustFunction } from './client-ip';
import { sendError } from './errors';

const WINDOW_MS = 60_000;

/**
 * Redis counters (shared by every instance), and the in-process ones while Redis is away: a Redis
 * outage relaxes the limits to one instance's view, never answers 5xx (docs/specification.md §2).
 * rate-limit-redis loads its scripts once in `init`; a failed load is retried before the next use,
 * so the store recovers when Redis comes back.
 */
class FallbackRateLimitStore implements Store {
  private options?: Options;
  private redisReady?: Promise<void>;

  constructor(
    private readonly redis: RedisStore,
    private readonly local: MemoryStore,
    /** Shared by the limiters of one app: an outage is logged once, not once per limiter. */
    private readonly health: { down: boolean },
    /** The client's first connection attempt: commands sent before it would fail as if Redis were down. */
    private readonly connecting: Promise<void>,
    private readonly logger: Logger,
  ) {}

  init(options: Options): void {
    this.options = options;
    this.local.init(options);
  }

  private async onRedis<T>(call: () => Promise<T>): Promise<T> {
    this.redisReady ??= this.connecting.then(() => this.redis.init(this.options!));
    try {
      await this.redisReady;
      const result = await call();
      if (this.health.down) this.logger.info('rate-limit counters back in Redis');
      this.health.down = false;
      return result;
    } catch (error) {
      this.redisReady = undefined; // load the scripts again next time
      if (!this.health.down) this.logger.warn({ err: (error as Error).message }, 'Redis unreachable: rate limits counted in this process until it returns');
      this.health.down = true;
      throw error;
    }
  }

  async increment(key: string) {
    try {
      return await this.onRedis(() => this.redis.increment(key));
    } catch {
      return this.local.increment(key);
    }
  }

  async decrement(key: string): Promise<void> {
    await this.onRedis(() => this.redis.decrement(key)).catch(() => this.local.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    await Promise.all([this.onRedis(() => this.redis.resetKey(key)).catch(() => undefined), this.local.resetKey(key)]);
  }

  shutdown(): void {
    this.local.shutdown();
  }
}

export interface RateLimitsOptions {
  /** RATE_LIMIT_PER_MINUTE; 0: no limit. */
  perMinute: number;
  trust: TrustFunction;
  /** The Redis client counters are shared through (REDIS_URL); in-process counters without one. */
  redis?: Redis;
  /** ENTITLEMENTS_CACHE_PREFIX. */
  prefix: string;
  logger: Logger;
}

export interface RateLimits {
  /** `GET authenticate/`. */
  authenticate: RequestHandler;
  /** `GET callback/`. */
  callback: RequestHandler;
  /** Routes behind a bearer key: counts (and logs, without key material) only the requests whose key was refused (see {@link markBearerRefused}). */
  bearerFailures: RequestHandler;
  close(): void;
}

/** Set by a route that refused a bearer key: the request counts against the client's failed-key budget. */
export function markBearerRefused(res: { locals: Record<string, unknown> }): void {
  res.locals.bearerRefused = true;
}

const TOO_MANY = 'Too many requests: try again later';

/** The per-client-IP limits of docs/specification.md §3 (express-rate-limit), 429 JSON with `Retry-After` beyond them. */
export function createRateLimits({ perMinute, trust, redis, prefix, logger }: RateLimitsOptions): RateLimits {
  const stores: Store[] = [];
  const health = { down: false };
  const connecting = redis ? firstConnection(redis) : Promise.resolve();
  const limiter = (name: string, extra: Partial<Options> = {}): RequestHandler => {
    if (perMinute <= 0) return (_req, _res, next) => next();
    const local = new MemoryStore();
    const store = redis
      ? new FallbackRateLimitStore(
          new RedisStore({
            sendCommand: (...args: string[]) => redis.call(args[0]!, ...args.slice(1)) as Promise<RedisReply>,
            prefix: `${prefix}:ratelimit:${name}:`,
          }),
          local,
          health,
          connecting,
          logger,
        )
      : local;
    stores.push(store);
    return rateLimit({
      windowMs: WINDOW_MS,
      limit: perMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      store,
      passOnStoreError: true,
      // The client as TRUST_PROXY says, whatever the host app's `trust proxy` (IPv6 clients by /56).
      keyGenerator: (req) => ipKeyGenerator(clientIp(req, trust)),
      validate: { trustProxy: false, xForwardedForHeader: false, ip: false },
      handler: (req, res) => {
        logger.warn({ limiter: name, ip: clientIp(req, trust) }, 'rate limit reached');
        sendError(req, res, 429, TOO_MANY);
      },
      ...extra,
    });
  };
  return {
    authenticate: limiter('authenticate'),
    callback: limiter('callback'),
    bearerFailures: limiter('bearer', {
      skipSuccessfulRequests: true,
      requestWasSuccessful: (req, res) => {
        if (res.locals.bearerRefused !== true) return true;
        logger.warn({ route: `${req.baseUrl}${req.path}`, ip: clientIp(req, trust) }, 'API key refused');
        return false;
      },
    }),
    close: () => {
      for (const store of stores) void store.shutdown?.();
    },
  };
}
