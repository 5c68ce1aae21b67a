import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { Pool } from 'pg';
import { providerOf, sqliteFilePath } from './provider';

/*
 * The Prisma driver adapters are the host's (optional peer dependencies): a PostgreSQL host need not
 * install better-sqlite3, nor a SQLite host pg. They are loaded when a command needs one.
 */

const PEERS = {
  postgresql: ['@prisma/adapter-pg', 'pg'],
  sqlite: ['@prisma/adapter-better-sqlite3', 'better-sqlite3'],
} as const;

export async function importPeer<T>(provider: keyof typeof PEERS, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' && (error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(`a ${provider} database needs ${PEERS[provider].join(' and ')}: npm install ${PEERS[provider].join(' ')}`, { cause: error });
  }
}

export interface AdapterOptions {
  /** PostgreSQL only: a pool of the caller's (its options and life cycle stay the caller's). */
  pool?: Pool;
}

/** The Prisma driver adapter for a database URL: node-postgres for `postgres(ql)://`, better-sqlite3 otherwise. */
export async function createAdapterFactory(databaseUrl: string, options: AdapterOptions = {}): Promise<SqlMigrationAwareDriverAdapterFactory> {
  if (providerOf(databaseUrl) === 'postgresql') {
    const { PrismaPg } = await importPeer('postgresql', () => import('@prisma/adapter-pg'));
    return new PrismaPg(options.pool ?? { connectionString: databaseUrl });
  }
  const { PrismaBetterSqlite3 } = await importPeer('sqlite', () => import('@prisma/adapter-better-sqlite3'));
  return forManyProcesses(new PrismaBetterSqlite3(sqliteOptions(databaseUrl)));
}

/**
 * How long a statement waits for another connection's write lock (another process: the resync
 * command, Prisma Studio) before failing with SQLITE_BUSY.
 */
const SQLITE_BUSY_TIMEOUT_MS = 15_000;

/** better-sqlite3's options for a SQLite `DATABASE_URL` (its folder created): the file, and a busy timeout. */
export function sqliteOptions(databaseUrl: string): { url: string; timeout: number } {
  const file = sqliteFilePath(databaseUrl);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  return { url: `file:${file}`, timeout: SQLITE_BUSY_TIMEOUT_MS };
}

/** SQLite's own limit of bound parameters since 3.32 (better-sqlite3 ships a newer SQLite). */
const SQLITE_MAX_BIND_VALUES = 32766;

/**
 * SQLite as multi-process apps use it: write-ahead logging, so that readers never wait for a writer
 * and a writer waits (the busy timeout) rather than fails while another process writes. And the real
 * limit of bound parameters: without it Prisma assumes SQLite's pre-2020 limit of 999 and splits large
 * `IN` lists and multi-row inserts into many statements.
 */
export function forManyProcesses(factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  const describe = async <T extends SqlDriverAdapter>(adapter: T): Promise<T> => {
    await adapter.executeScript('PRAGMA journal_mode = WAL');
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
