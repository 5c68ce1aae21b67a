import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPrismaClient, type AppPrismaClient } from '../../server/db';
import { applyMigrations } from '../../src/db/migrations';
import type { DatabaseProvider } from '../../src/db/provider';
import { StatementCounter } from './statement-counter';

export interface TestDatabase {
  provider: DatabaseProvider;
  url: string;
  prisma: AppPrismaClient;
  counter: StatementCounter;
  /** Empties every table. */
  truncate(): Promise<void>;
  /** A second client on the same database (another "instance"). */
  newClient(): AppPrismaClient;
  drop(): Promise<void>;
}

/** SQLite always; PostgreSQL when TEST_DATABASE_URL is set (the global setup says when it is skipped). */
export const PROVIDERS_UNDER_TEST: DatabaseProvider[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgresql'] : ['sqlite'];

function uniqueName(): string {
  return `oidc_ent_test_${process.env.JEST_WORKER_ID ?? '0'}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A database of this test file alone (parallel workers never share one), migrated. */
export async function createTestDatabase(provider: DatabaseProvider, { migrate = true } = {}): Promise<TestDatabase> {
  const name = uniqueName();
  let url: string;
  let dropDatabase: () => Promise<void>;
  if (provider === 'postgresql') {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    url = withDatabase(adminUrl, name);
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
  } else {
    const file = join(tmpdir(), `${name}.db`);
    url = `file:${file}`;
    dropDatabase = async () => {
      for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    };
  }
  if (migrate) await applyMigrations(url);
  const counter = new StatementCounter();
  const clients: AppPrismaClient[] = [];
  const newClient = () => {
    const client = createPrismaClient(url);
    clients.push(client);
    return client;
  };
  const prisma = createPrismaClient(url, { wrapAdapter: counter.wrap });
  clients.push(prisma);
  return {
    provider,
    url,
    prisma,
    counter,
    newClient,
    truncate: async () => {
      await prisma.accessEvent.deleteMany();
      await prisma.mailDomainAccess.deleteMany();
      await prisma.mailDomain.deleteMany();
      await prisma.user.deleteMany();
      await prisma.session.deleteMany();
      counter.reset();
    },
    drop: async () => {
      for (const client of clients) await client.$disconnect();
      await dropDatabase();
    },
  };
}

/** The databases a benchmark runs on: SQLite, and PostgreSQL when it answers (said when it does not). */
export async function benchmarkProviders(): Promise<DatabaseProvider[]> {
  const postgresUrl = await reachablePostgres();
  if (!postgresUrl) {
    console.log('PostgreSQL not reachable: its rows are skipped.\n');
    return ['sqlite'];
  }
  process.env.TEST_DATABASE_URL = postgresUrl;
  return ['sqlite', 'postgresql'];
}

/** The PostgreSQL server benchmarks use (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else local), if it answers. */
async function reachablePostgres(): Promise<string | undefined> {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return url;
  } catch {
    return undefined;
  }
}
