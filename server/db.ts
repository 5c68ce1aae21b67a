import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { PrismaClient as GeneratedClient } from '../generated/sqlite/client';
import { forManyProcesses, sqliteOptions } from '../src/db/adapters';
import { providerOf } from '../src/db/provider';

/**
 * The reference server's client. Both providers' generated clients have the same models (one source
 * of truth), so the SQLite client's type describes either.
 */
export type AppPrismaClient = GeneratedClient;

export interface ClientOptions {
  /** Wraps the driver adapter (tests and benchmarks count statements this way). */
  wrapAdapter?: (factory: SqlDriverAdapterFactory) => SqlDriverAdapterFactory;
}

/** A Prisma client on DATABASE_URL with the driver adapter of its provider. */
export function createPrismaClient(databaseUrl: string, options: ClientOptions = {}): AppPrismaClient {
  const postgres = providerOf(databaseUrl) === 'postgresql';
  const factory = postgres ? new PrismaPg({ connectionString: databaseUrl }) : forManyProcesses(new PrismaBetterSqlite3(sqliteOptions(databaseUrl)));
  const adapter = options.wrapAdapter ? options.wrapAdapter(factory) : factory;
  const modulePath = postgres ? '../generated/postgresql/client' : '../generated/sqlite/client';
  const { PrismaClient } = require(modulePath) as typeof import('../generated/sqlite/client');
  return new PrismaClient({ adapter });
}
