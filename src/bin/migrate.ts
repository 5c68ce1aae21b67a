import { applyMigrations } from '../db/migrations';
import { DEFAULT_DATABASE_URL, providerOf } from '../db/provider';
import { loadDotEnv } from '../config';

export const MIGRATE_HELP = `oidc-entitlements migrate

Applies the package's pending migrations (the tables of the models file) to DATABASE_URL, offline,
through Prisma's WebAssembly schema engine: a SQLite file (file:./data/dev.db) or a postgresql:// URL.
Records them in _prisma_migrations as \`prisma migrate deploy\` does. Needs the driver adapter of the
database: @prisma/adapter-better-sqlite3 + better-sqlite3, or @prisma/adapter-pg + pg.`;

/** `oidc-entitlements migrate`: the package's migrations applied to DATABASE_URL. */
export async function migrateCommand(): Promise<number> {
  loadDotEnv();
  const databaseUrl = process.env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  const applied = await applyMigrations(databaseUrl);
  const where = providerOf(databaseUrl) === 'sqlite' ? databaseUrl : 'PostgreSQL';
  console.log(applied.length === 0 ? `${where}: no pending migration` : `${where}: applied ${applied.join(', ')}`);
  return 0;
}
