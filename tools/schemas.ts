import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsDir, PROVIDERS, renderSchema } from '../src/db/migrations';
import { modelsPath, prismaDir } from '../src/db/package-files';
import { NO_FILTERS, openSchemaEngine } from '../src/db/schema-engine';
import { providerOf, type DatabaseProvider } from '../src/db/provider';

/*
 * Repository tooling around the one models file: the per-provider schemas the repository's own clients
 * are generated from, and the authoring of the package's next migration. None of it ships.
 */

export const MODELS_PATH = modelsPath();
/** The models as of the newest migration: the next migration is the diff from it to models.prisma. */
export const MIGRATED_MODELS_PATH = join(prismaDir(), 'models.migrated.prisma');

export function schemaPath(provider: DatabaseProvider): string {
  return join(prismaDir(), provider, 'schema.prisma');
}

function generatorBlock(provider: DatabaseProvider): string {
  return `generator client {
  provider            = "prisma-client"
  output              = "../../generated/${provider}"
  moduleFormat        = "cjs"
  runtime             = "nodejs"
  importFileExtension = ""
}

`;
}

/** The repository's schema of one provider: a generated header plus the shared models, so providers cannot drift. */
export function repositorySchema(provider: DatabaseProvider, models = readFileSync(MODELS_PATH, 'utf8')): { path: string; content: string } {
  const header = '// GENERATED from prisma/models.prisma by `npm run db:generate`: do not edit.\n\n';
  return { path: schemaPath(provider), content: header + renderSchema(provider, models, generatorBlock(provider)) };
}

export function writeSchemas(): void {
  for (const provider of PROVIDERS) {
    mkdirSync(join(prismaDir(), provider), { recursive: true });
    writeFileSync(schemaPath(provider), repositorySchema(provider).content);
  }
}

/** The SQL that would bring the database to models.prisma: empty when migrations and models agree. */
export async function diffDatabaseToSchema(databaseUrl: string): Promise<string> {
  const schema = repositorySchema(providerOf(databaseUrl));
  const session = await openSchemaEngine(databaseUrl, schema);
  try {
    const result = await session.engine.diff({
      from: { tag: 'schemaDatasource', files: [schema], configDir: prismaDir() },
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

/** The SQL that turns the database described by `from` (or an empty one) into `to`, without a database on SQLite. */
export async function diffSchemas(databaseUrl: string, from: { path: string; content: string } | null, to: { path: string; content: string }): Promise<string> {
  const session = await openSchemaEngine(databaseUrl, to);
  try {
    const result = await session.engine.diff({
      from: from ? { tag: 'schemaDatamodel', files: [from] } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [to] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    return result.stdout ?? '';
  } finally {
    await session.close();
  }
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
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  if (!slug) throw new Error('a migration needs a name made of letters or digits');
  const models = readFileSync(MODELS_PATH, 'utf8');
  const migrated = existsSync(MIGRATED_MODELS_PATH) ? readFileSync(MIGRATED_MODELS_PATH, 'utf8') : null;
  if (migrated === models) return [];
  const created: CreatedMigration[] = [];
  for (const provider of PROVIDERS) {
    const from = migrated === null ? null : repositorySchema(provider, migrated);
    const diff = await diffSchemas(databaseUrls[provider], from, repositorySchema(provider));
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
