/**
 * `npm run bench:sync`: statements and wall time of the admin-role sync against the reference
 * algorithm (one lookup and one update_or_create per entitled domain, then a delete), on SQLite and
 * on PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server; skipped with a
 * message when unreachable), and the resident memory of the in-process entitlements cache.
 * Prints Markdown tables (docs/performance.md holds a copy).
 */
import { performance } from 'node:perf_hooks';
import type { AppPrismaClient } from '../server/db';
import type { DatabaseProvider } from '../src/db/provider';
import { MemoryCacheStore } from '../src/entitlements/cache/memory';
import { AdminRoleSync } from '../src/sync/admin-sync';
import { createTestDatabase, benchmarkProviders, type TestDatabase } from '../test/support/databases';
import { createDomains } from '../test/support/fixtures';

const SIZES = (process.env.BENCH_SIZES ?? '1,100,1000,10000').split(',').map(Number);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

interface Measure {
  statements: number;
  ms: number;
}

type Scenario = 'first sync' | 'in sync' | '10 % churn';

/** The reference implementation (Django, messages PR #572): per-domain queries, no transaction, no audit. */
async function referenceSync(prisma: AppPrismaClient, userId: string, entitled: string[]): Promise<void> {
  for (const name of entitled) {
    const domain = await prisma.mailDomain.findUnique({ where: { name } });
    if (!domain) continue;
    const existing = await prisma.mailDomainAccess.findFirst({ where: { userId, maildomainId: domain.id } });
    if (existing) await prisma.mailDomainAccess.update({ where: { id: existing.id }, data: { role: 'ADMIN' } });
    else await prisma.mailDomainAccess.create({ data: { userId, maildomainId: domain.id, role: 'ADMIN', source: 'ENTITLEMENTS' } });
  }
  await prisma.mailDomainAccess.deleteMany({ where: { userId, role: 'ADMIN', maildomain: { name: { notIn: entitled } } } });
}

async function measure(db: TestDatabase, run: () => Promise<unknown>): Promise<Measure> {
  db.counter.reset();
  const started = performance.now();
  await run();
  return { statements: db.counter.count, ms: performance.now() - started };
}

async function benchProvider(provider: DatabaseProvider): Promise<string[]> {
  const rows: string[] = [];
  for (const n of SIZES) {
    const db = await createTestDatabase(provider);
    const churn = Math.max(1, Math.round(n / 10));
    const names = Array.from({ length: n + churn }, (_, i) => `d${i}.bench.example`);
    await createDomains(db.prisma, names);
    const first = names.slice(0, n);
    const churned = names.slice(churn, n + churn);
    const sync = new AdminRoleSync({ prisma: db.prisma, provider, logger: silent, options: { preserveManual: false, maxRevocations: 0, dryRun: false } });

    const ours = await db.prisma.user.create({ data: { email: 'ours@bench.example', sub: 'ours' } });
    const theirs = await db.prisma.user.create({ data: { email: 'ref@bench.example', sub: 'ref' } });
    const oursFor = (list: string[]) => () => sync.sync(ours, { can_access: true, can_admin_maildomains: list });
    const refFor = (list: string[]) => () => referenceSync(db.prisma, theirs.id, list);

    const scenarios: [Scenario, Measure, Measure][] = [];
    scenarios.push(['first sync', await measure(db, oursFor(first)), await measure(db, refFor(first))]);
    scenarios.push(['in sync', await measure(db, oursFor(first)), await measure(db, refFor(first))]);
    scenarios.push(['10 % churn', await measure(db, oursFor(churned)), await measure(db, refFor(churned))]);
    for (const [scenario, o, r] of scenarios) {
      rows.push(
        `| ${provider} | ${n.toLocaleString('en')} | ${scenario} | ${o.statements} | ${o.ms.toFixed(1)} | ${r.statements.toLocaleString('en')} | ${r.ms.toFixed(1)} | ${(r.statements / o.statements).toFixed(1)}× | ${(r.ms / o.ms).toFixed(1)}× |`,
      );
    }
    process.stderr.write(`${provider} N=${n} done\n`);
    await db.drop();
  }
  return rows;
}

function rssMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 1024 / 1024;
}

async function benchCacheMemory(): Promise<string[]> {
  const maxKeys = 100_000;
  const store = new MemoryCacheStore(maxKeys);
  const answer = (i: number) => ({
    value: { can_access: true, can_admin_maildomains: [`d${i}.example.fr`, `e${i}.example.fr`], can_create: true },
    fetchedAt: Date.now(),
  });
  const rows = [`| cached answers | resident memory (MiB) |`, `|---:|---:|`, `| 0 | ${rssMiB().toFixed(0)} |`];
  for (let i = 0; i < maxKeys; i++) await store.set(`oidc-entitlements:entitlements:user:sub-${i}`, answer(i), 86400);
  rows.push(`| ${store.size.toLocaleString('en')} | ${rssMiB().toFixed(0)} |`);
  for (let i = maxKeys; i < maxKeys * 2; i++) await store.set(`oidc-entitlements:entitlements:user:sub-${i}`, answer(i), 86400);
  rows.push(`| ${store.size.toLocaleString('en')} (after 200,000 logins: bounded by ENTITLEMENTS_CACHE_MAX_KEYS) | ${rssMiB().toFixed(0)} |`);
  await store.close();
  return rows;
}

async function main(): Promise<void> {
  const providers = await benchmarkProviders();
  const memory = await benchCacheMemory();
  const rows: string[] = [];
  for (const provider of providers) rows.push(...(await benchProvider(provider)));

  console.log('### Admin-role sync: statements and wall time (BEGIN and COMMIT counted)\n');
  console.log('| database | N domains | scenario | ours: statements | ours: ms | reference: statements | reference: ms | statements ratio | time ratio |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  console.log('\n### In-process entitlements cache (lru-cache), resident memory\n');
  for (const row of memory) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
