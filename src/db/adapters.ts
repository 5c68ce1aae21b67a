import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { providerOf, sqliteFilePath } from './provider';

export interface AdapterOptions {
  /** PostgreSQL only: a pool of the caller's (its options and life cycle stay the caller's). */
  pool?: pg.Pool;
}

/** The Prisma driver adapter for a database URL (DESIGN §2): better-sqlite3 for files, node-postgres otherwise. */
export function createAdapterFactory(databaseUrl: string, options: AdapterOptions = {}): SqlMigrationAwareDriverAdapterFactory {
  if (providerOf(databaseUrl) === 'postgresql') {
    return new PrismaPg(options.pool ?? { connectionString: databaseUrl });
  }
  const file = sqliteFilePath(databaseUrl);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  return withSqliteBindLimit(new PrismaBetterSqlite3({ url: `file:${file}` }));
}

/** SQLite's own limit of bound parameters since 3.32 (better-sqlite3 ships a newer SQLite). */
const SQLITE_MAX_BIND_VALUES = 32766;

/**
 * Without connection info Prisma assumes SQLite's pre-2020 limit of 999 parameters and splits large
 * `IN` lists and multi-row inserts into many statements; the adapter can state the real limit.
 */
function withSqliteBindLimit(factory: PrismaBetterSqlite3): SqlMigrationAwareDriverAdapterFactory {
  const describe = <T extends SqlDriverAdapter>(adapter: T): T => {
    adapter.getConnectionInfo ??= () => ({ maxBindValues: SQLITE_MAX_BIND_VALUES, supportsRelationJoins: false });
    return adapter;
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => describe(await factory.connect()),
    connectToShadowDb: async () => describe(await factory.connectToShadowDb()),
  };
}
