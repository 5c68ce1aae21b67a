import { createMigration } from './schemas';

/*
 * `npm run db:migration:create -- <name>`: the next migration of both providers, from the change to
 * prisma/models.prisma. The PostgreSQL engine connects to a server before diffing (it writes nothing):
 * MIGRATION_POSTGRES_URL, else DATABASE_URL when it is PostgreSQL, else the local test server.
 */
async function main(): Promise<void> {
  const name = process.argv.slice(2).join(' ');
  if (!name.trim()) throw new Error('usage: npm run db:migration:create -- <name>');
  const envUrl = process.env.DATABASE_URL ?? '';
  const postgresUrl = process.env.MIGRATION_POSTGRES_URL ?? (/^postgres(ql)?:\/\//.test(envUrl) ? envUrl : 'postgresql://postgres@127.0.0.1:5432/test');
  const created = await createMigration(name, { sqlite: 'file::memory:', postgresql: postgresUrl });
  if (created.length === 0) console.log('prisma/models.prisma has not changed since the last migration: nothing to create');
  for (const { provider, directory } of created) console.log(`${provider}: ${directory}`);
}

main().catch((error: unknown) => {
  console.error(`db:migration:create: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
