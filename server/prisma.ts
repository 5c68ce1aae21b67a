import { loadServerConfig } from '../src/config';
import { createPrismaClient } from './db';

/**
 * The reference server's PrismaClient on DATABASE_URL, as a module: what `oidc-entitlements resync
 * --prisma MODULE` loads (`npm run resync`), the way a host points the command at its own client.
 */
export const prisma = createPrismaClient(loadServerConfig().databaseUrl);
