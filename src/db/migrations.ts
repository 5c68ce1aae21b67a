import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_FILTERS, openSchemaEngine, type MigrationList } from './schema-engine';
import { modelsPath, prismaDir } from './package-files';
import { providerOf, type DatabaseProvider } from './provider';

/*
 * The package's migrations live in Prisma's standard layout, one folder per provider
 * (prisma/<provider>/migrations/<timestamp>_<name>/migration.sql plus migration_lock.toml), and are
 * recorded in `_prisma_migrations` by Prisma's own engine, so `prisma migrate deploy` stays
 * interchangeable with `oidc-entitlements migrate` wherever Prisma's native engine is available.
 */

export const PROVIDERS: readonly DatabaseProvider[] = ['sqlite', 'postgresql'];

export function migrationsDir(provider: DatabaseProvider): string {
  return join(prismaDir(), provider, 'migrations');
}

/** A schema of one provider: its datasource, then other blocks (a generator), then the shared models. */
export function renderSchema(provider: DatabaseProvider, models: string, blocks = ''): string {
  return `datasource db {
  provider = "${provider}"
}

${blocks}${models}`;
}

/** The schema the engine is opened with: the package's models on the database's provider. */
function engineSchema(provider: DatabaseProvider): { path: string; content: string } {
  return { path: join(prismaDir(), provider, 'schema.prisma'), content: renderSchema(provider, readFileSync(modelsPath(), 'utf8')) };
}

export function readMigrations(provider: DatabaseProvider): MigrationList {
  const baseDir = migrationsDir(provider);
  const lockPath = join(baseDir, 'migration_lock.toml');
  const names = existsSync(baseDir)
    ? readdirSync(baseDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(baseDir, entry.name, 'migration.sql')))
        .map((entry) => entry.name)
        .sort()
    : [];
  return {
    baseDir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok' as const, value: readFileSync(join(baseDir, name, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

/** Applies the package's pending migrations to the database (offline); returns the names applied. */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const provider = providerOf(databaseUrl);
  const session = await openSchemaEngine(databaseUrl, engineSchema(provider));
  try {
    const { appliedMigrationNames } = await session.engine.applyMigrations({
      migrationsList: readMigrations(provider),
      filters: NO_FILTERS,
    });
    return appliedMigrationNames;
  } finally {
    await session.close();
  }
}
