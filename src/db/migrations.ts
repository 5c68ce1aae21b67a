import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffSchemas, NO_FILTERS, openSchemaEngine, type MigrationList } from './schema-engine';
import { providerOf, type DatabaseProvider } from './provider';

/*
 * Migrations live in Prisma's standard layout, one folder per provider
 * (prisma/<provider>/migrations/<timestamp>_<name>/migration.sql plus migration_lock.toml), and are
 * recorded in `_prisma_migrations` by Prisma's own engine, so `prisma migrate deploy` stays
 * interchangeable with `npm run db:migrate` wherever Prisma's native engine is available.
 */

export const PRISMA_DIR = join(__dirname, '..', '..', 'prisma');
export const MODELS_PATH = join(PRISMA_DIR, 'models.prisma');
/** The models as of the newest migration: the next migration is the diff from it to models.prisma. */
export const MIGRATED_MODELS_PATH = join(PRISMA_DIR, 'models.migrated.prisma');
export const PROVIDERS: readonly DatabaseProvider[] = ['sqlite', 'postgresql'];

export function schemaPath(provider: DatabaseProvider): string {
  return join(PRISMA_DIR, provider, 'schema.prisma');
}

export function migrationsDir(provider: DatabaseProvider): string {
  return join(PRISMA_DIR, provider, 'migrations');
}

/** The schema of one provider: a generated header plus the shared models, so providers cannot drift. */
export function renderSchema(provider: DatabaseProvider, models: string): string {
  return `// GENERATED from prisma/models.prisma by \`npm run db:generate\`: do not edit.

datasource db {
  provider = "${provider}"
}

generator client {
  provider            = "prisma-client"
  output              = "../../generated/${provider}"
  moduleFormat        = "cjs"
  runtime             = "nodejs"
  importFileExtension = ""
}

${models}`;
}

export function currentSchema(provider: DatabaseProvider): { path: string; content: string } {
  return { path: schemaPath(provider), content: renderSchema(provider, readFileSync(MODELS_PATH, 'utf8')) };
}

export function writeSchemas(): void {
  for (const provider of PROVIDERS) {
    mkdirSync(join(PRISMA_DIR, provider), { recursive: true });
    writeFileSync(schemaPath(provider), currentSchema(provider).content);
  }
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

/** Applies the pending migrations of the database's provider; returns the names applied. */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const provider = providerOf(databaseUrl);
  const session = await openSchemaEngine(databaseUrl, currentSchema(provider));
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

/** The SQL that would bring the database to models.prisma: empty when migrations and models agree. */
export async function diffDatabaseToSchema(databaseUrl: string): Promise<string> {
  const schema = currentSchema(providerOf(databaseUrl));
  const session = await openSchemaEngine(databaseUrl, schema);
  try {
    const result = await session.engine.diff({
      from: { tag: 'schemaDatasource', files: [schema], configDir: PRISMA_DIR },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    return (result.stdout ?? '').replace(/^-- This is an empty migration\.\s*$/m, '').trim();
  } finally {
    await session.close();
  }
}

/**
 * Prisma 7.10 writes a JSON column default unquoted on SQLite (`DEFAULT {}`), which SQLite rejects; the
 * quoted literal is what it means, and what introspection reads back as equal to the schema.
 */
export function quoteSqliteJsonDefaults(sql: string): string {
  return sql.replace(/DEFAULT ([{[][^\n]*?[}\]])(?=,?\n|,?$)/g, (_match, json: string) => `DEFAULT '${json.replace(/'/g, "''")}'`);
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export interface CreatedMigration {
  provider: DatabaseProvider;
  directory: string;
}

/**
 * Authors the next migration of every provider as the diff from models.migrated.prisma to
 * models.prisma (a server is needed for PostgreSQL: the engine connects before it diffs), then records
 * models.prisma as migrated. Returns nothing when the models have not changed.
 */
export async function createMigration(name: string, databaseUrls: Record<DatabaseProvider, string>, now = new Date()): Promise<CreatedMigration[]> {
  const slug = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  if (!slug) throw new Error('a migration needs a name made of letters or digits');
  const models = readFileSync(MODELS_PATH, 'utf8');
  const migrated = existsSync(MIGRATED_MODELS_PATH) ? readFileSync(MIGRATED_MODELS_PATH, 'utf8') : null;
  if (migrated === models) return [];
  const created: CreatedMigration[] = [];
  for (const provider of PROVIDERS) {
    const from = migrated === null ? null : { path: schemaPath(provider), content: renderSchema(provider, migrated) };
    const diff = await diffSchemas(databaseUrls[provider], from, currentSchema(provider));
    const sql = provider === 'sqlite' ? quoteSqliteJsonDefaults(diff) : diff;
    const directory = join(migrationsDir(provider), `${timestamp(now)}_${slug}`);
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, 'migration.sql'), sql);
    writeFileSync(
      join(migrationsDir(provider), 'migration_lock.toml'),
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`,
    );
    created.push({ provider, directory });
  }
  writeFileSync(MIGRATED_MODELS_PATH, models);
  return created;
}
