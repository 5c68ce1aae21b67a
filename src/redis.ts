import { Redis } from 'ioredis';

const CONNECT_TIMEOUT_MS = 2000;

/**
 * The one Redis client setup (cache and sessions): commands fail at once while Redis is away — no
 * offline queue, one retry, a one-second command timeout — so a dead Redis never holds a request.
 * Connection errors surface on the commands that fail; without a listener ioredis would print them.
 */
export function createRedisClient(redisUrl: string): Redis {
  const client = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  return client;
}

/**
 * Resolves once the client's first connection attempt is over, connected or not (at most the connect
 * timeout): without an offline queue, commands sent while a new client is still connecting would fail
 * as if Redis were down.
 */
export function firstConnection(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, CONNECT_TIMEOUT_MS);
    timer.unref();
    client.once('ready', done);
    client.once('error', done);
  });
}
