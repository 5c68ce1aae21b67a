import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { PrismaClient as GeneratedClient } from '../../generated/sqlite/client';
import { createAdapterFactory } from './adapters';
import { providerOf } from './provider';

/**
 * The reference server's client. Both providers' generated clients have the same models (one source
 * of truth), so the SQLite client's type describes either.
 */
export type AppPrismaClient = GeneratedClient;

export interface ClientOptions {
  /** Wraps the driver adapter (tests and benchmarks count statements this way). */
  wrapAdapter?: (factory: SqlDriverAdapterFactory) => SqlDriverAdapterFactory;
}

/** A Prisma client on DATABASE_URL with the driver adapter of its provider (DESIGN §2). */
export function createPrismaClient(databaseUrl: string, options: ClientOptions = {}): AppPrismaClient {
  const factory = createAdapterFactory(databaseUrl);
  const adapter = options.wrapAdapter ? options.wrapAdapter(factory) : factory;
  const modulePath = providerOf(databaseUrl) === 'postgresql' ? '../../generated/postgresql/client' : '../../generated/sqlite/client';
  const { PrismaClient } = require(modulePath) as typeof import('../../generated/sqlite/client');
  return new PrismaClient({ adapter });
}
