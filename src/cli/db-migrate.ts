import 'dotenv/config';
import { DEFAULT_DATABASE_URL, providerOf } from '../db/provider';
import { applyMigrations } from '../db/migrations';

/** `npm run db:migrate`: applies the pending migrations to DATABASE_URL (what `prisma migrate deploy` does). */
async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  const applied = await applyMigrations(databaseUrl);
  const where = providerOf(databaseUrl) === 'sqlite' ? databaseUrl : 'PostgreSQL';
  console.log(applied.length === 0 ? `${where}: no pending migration` : `${where}: applied ${applied.join(', ')}`);
}

main().catch((error: unknown) => {
  console.error(`db:migrate: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  process.exit(1);
});
