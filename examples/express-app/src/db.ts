import { mkdirSync } from 'node:fs';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.js';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.js';

/**
 * The app's PrismaClient, with its driver adapter: PostgreSQL for a postgres(ql):// DATABASE_URL, a
 * SQLite file otherwise. An app on one database needs only one of the two; this one runs on both, and
 * both clients have the same models, so one type describes either.
 */
function createClient(databaseUrl: string): SqliteClient {
  if (/^postgres(ql)?:\/\//.test(databaseUrl))
    return new PostgresClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) }) as unknown as SqliteClient;
  mkdirSync('data', { recursive: true });
  return new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: databaseUrl }) });
}

export const prisma = createClient(process.env.DATABASE_URL ?? 'file:./data/app.db');
