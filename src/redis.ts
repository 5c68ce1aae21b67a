import { Redis } from 'ioredis';

/**
 * The one Redis client setup (cache and sessions): commands fail at once while Redis is away — no
 * offline queue, one retry, a one-second command timeout — so a dead Redis never holds a request.
 * Connection errors surface on the commands that fail; without a listener ioredis would print them.
 */
export function createRedisClient(redisUrl: string): Redis {
  const client = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000 });
  client.on('error', () => undefined);
  return client;
}
