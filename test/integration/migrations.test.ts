import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrismaClient } from '../../server/db';
import { applyMigrations, migrationsDir, readMigrations } from '../../src/db/migrations';
import { diffDatabaseToSchema, MIGRATED_MODELS_PATH, MODELS_PATH, quoteSqliteJsonDefaults, repositorySchema, schemaPath } from '../../tools/schemas';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';

describe('one source of truth for the models', () => {
  it('has no model change without its migration (run `npm run db:migration:create -- <name>`)', () => {
    expect(readFileSync(MIGRATED_MODELS_PATH, 'utf8')).toBe(readFileSync(MODELS_PATH, 'utf8'));
  });

  it.each(['sqlite', 'postgresql'] as const)('the generated %s schema is the models, byte for byte (run `npm run db:generate`)', (provider) => {
    expect(readFileSync(schemaPath(provider), 'utf8')).toBe(repositorySchema(provider).content);
    expect(repositorySchema(provider).content.endsWith(readFileSync(MODELS_PATH, 'utf8'))).toBe(true);
  });

  it('both providers have the same migrations', () => {
    const names = (provider: 'sqlite' | 'postgresql') => readMigrations(provider).migrationDirectories.map((m) => m.path);
    expect(names('sqlite')).toEqual(names('postgresql'));
    expect(names('sqlite').length).toBeGreaterThan(0);
  });

  it('quotes the JSON defaults Prisma leaves bare on SQLite', () => {
    expect(quoteSqliteJsonDefaults(`"a" JSONB NOT NULL DEFAULT {},\n"b" JSONB DEFAULT ["x"]\n`)).toBe(
      `"a" JSONB NOT NULL DEFAULT '{}',\n"b" JSONB DEFAULT '["x"]'\n`,
    );
    expect(quoteSqliteJsonDefaults(`"c" TEXT DEFAULT 'x',\n`)).toBe(`"c" TEXT DEFAULT 'x',\n`);
  });
});

describe.each(PROVIDERS_UNDER_TEST)('migrations on %s', (provider) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(provider, { migrate: false });
  });
  afterAll(() => db.drop());

  it('applies every migration once, then nothing', async () => {
    const expected = readMigrations(provider).migrationDirectories.map((m) => m.path);
    expect(await applyMigrations(db.url)).toEqual(expected);
    expect(await applyMigrations(db.url)).toEqual([]);
  });

  it('records _prisma_migrations as `prisma migrate deploy` does (checksum = sha256 of migration.sql)', async () => {
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: unknown; rolled_back_at: unknown }[]>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    const expected = readMigrations(provider).migrationDirectories.map((m) => ({
      migration_name: m.path,
      checksum: createHash('sha256')
        .update(readFileSync(join(migrationsDir(provider), m.path, 'migration.sql')))
        .digest('hex'),
    }));
    expect(rows.map(({ migration_name, checksum }) => ({ migration_name, checksum }))).toEqual(expected);
    expect(rows.every((row) => row.finished_at !== null && row.rolled_back_at === null)).toBe(true);
  });

  it('leaves the database exactly as the models describe (no drift)', async () => {
    expect(await diffDatabaseToSchema(db.url)).toBe('');
  });

  it('gives the contract tables and columns of docs/specification.md §8, with the custom_attributes default {}', async () => {
    const client = createPrismaClient(db.url);
    const domain = await client.mailDomain.create({ data: { name: 'defaults.fr' } });
    expect(domain.customAttributes).toEqual({});
    await client.$executeRawUnsafe("INSERT INTO mail_domains (id, name, updated_at) VALUES ('raw-id', 'raw.fr', CURRENT_TIMESTAMP)");
    expect((await client.mailDomain.findUnique({ where: { name: 'raw.fr' } }))?.customAttributes).toEqual({});
    await client.$disconnect();
  });
});
