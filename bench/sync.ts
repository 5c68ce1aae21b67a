/**
 * `npm run bench:sync`: the admin-role sync (src/sync/admin-sync.ts) against a FAITHFUL re-implementation,
 * with Prisma, of `_sync_entitlements` of La Suite Messages PR #572 (core/authentication/backends.py), on
 * SQLite and PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server; skipped with a
 * message when unreachable); then the resident memory of the in-process entitlements cache. Prints
 * Markdown tables (docs/performance.md holds a copy). The reference comes from ../shared/reference/
 * sync-faithful.ts (issue "performance"), adopted unchanged but for the imports.
 *
 * The Django code reproduced (autocommit, no surrounding transaction):
 *
 *   entitled_domains = MailDomain.objects.filter(name__in=admin_domains)
 *   entitled_ids = set(entitled_domains.values_list("id", flat=True))                      # SELECT 1
 *   existing_ids = set(MailDomainAccess.objects.filter(user=user, role=ADMIN)
 *                      .values_list("maildomain_id", flat=True))                           # SELECT 2
 *   if entitled_ids == existing_ids: return                                                # 2 statements
 *   for domain in entitled_domains.exclude(id__in=existing_ids):                           # SELECT 3
 *       MailDomainAccess.objects.update_or_create(user=user, maildomain=domain, defaults={"role": ADMIN})
 *   stale = existing_ids - entitled_ids
 *   MailDomainAccess.objects.filter(user=user, maildomain_id__in=stale, role=ADMIN).delete()
 *
 * Statement accounting (what Django sends to the database, one round trip each):
 * - update_or_create() = BEGIN + SELECT ... FOR UPDATE + SAVEPOINT + INSERT + RELEASE + COMMIT = 6 for a new
 *   row (SQLite: Django drops FOR UPDATE; same count).
 * - QuerySet.delete(): BEGIN + DELETE + COMMIT = 3 when `stale` is not empty, nothing otherwise.
 * So: in sync = 2; first sync of N = 3 + 6N; churn of k = N/10 = 3 + 6k + 3.
 * Ours: every statement counted at the driver adapter, BEGIN and COMMIT included; each is one round trip.
 *
 * Env: BENCH_SIZES (default 1,10,100,1000,10000), BENCH_REPEATS (default 5 for N <= 1000, 1 above),
 * BENCH_PROVIDERS (default sqlite,postgresql), BENCH_REF_MAX (largest N for the reference, default 10000),
 * BENCH_SHOW_SQL=1 prints the statements of each scenario at N = 1.
 * BENCH_INSYNC_ROUNDS=R (default 30; 0 = off): the in-sync case alone, R rounds per N alternating ours and
 * the reference on already-synced users (median and p95) (BENCH_ONLY_INSYNC=1 runs this part alone).
 * BENCH_CACHE_OFFERED (default 1,000,000): answers offered to the in-process cache (0 = off).
 */
import { performance } from 'node:perf_hooks';
import type { AppPrismaClient } from '../server/db';
import type { DatabaseProvider } from '../src/db/provider';
import { MemoryCacheStore } from '../src/entitlements/cache/memory';
import { AdminRoleSync } from '../src/sync/admin-sync';
import { createTestDatabase, benchmarkProviders, type TestDatabase } from '../test/support/databases';
import { createDomains } from '../test/support/fixtures';

const SIZES = (process.env.BENCH_SIZES ?? '1,10,100,1000,10000').split(',').map(Number);
const REF_MAX = Number(process.env.BENCH_REF_MAX ?? 10_000);
const SHOW_SQL = process.env.BENCH_SHOW_SQL === '1';
const repeatsFor = (n: number) => Number(process.env.BENCH_REPEATS ?? (n <= 1000 ? 5 : 1));
const silent = { debug() {}, info() {}, warn() {}, error() {} };

type Scenario = 'first sync' | 'in sync' | '10 % churn';
const SCENARIOS: Scenario[] = ['first sync', 'in sync', '10 % churn'];

interface Measure {
  statements: number;
  ms: number;
  sql: string[];
}

/** Django's `update_or_create(user=user, maildomain=domain, defaults={"role": ADMIN})`, statement for statement. */
async function updateOrCreate(prisma: AppPrismaClient, provider: DatabaseProvider, userId: string, maildomainId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    // get(): Django limits to MAX_GET_RESULTS = 21; FOR UPDATE is dropped on SQLite (has_select_for_update = False).
    const rows =
      provider === 'postgresql'
        ? await tx.$queryRaw<
            { id: string }[]
          >`SELECT id, user_id, maildomain_id, role, created_at, updated_at FROM mail_domain_accesses WHERE user_id = ${userId} AND maildomain_id = ${maildomainId} LIMIT 21 FOR UPDATE`
        : await tx.$queryRaw<
            { id: string }[]
          >`SELECT id, user_id, maildomain_id, role, created_at, updated_at FROM mail_domain_accesses WHERE user_id = ${userId} AND maildomain_id = ${maildomainId} LIMIT 21`;
    if (rows.length === 0) {
      // get_or_create(): create() inside a nested atomic() to catch IntegrityError.
      await tx.$executeRawUnsafe('SAVEPOINT s_goc');
      await tx.mailDomainAccess.create({ data: { userId, maildomainId, role: 'ADMIN', source: 'ENTITLEMENTS' }, select: { id: true } });
      await tx.$executeRawUnsafe('RELEASE SAVEPOINT s_goc');
    } else {
      // save(update_fields={"role", "updated_at"}).
      await tx.mailDomainAccess.update({ where: { id: rows[0]!.id }, data: { role: 'ADMIN' }, select: { id: true } });
    }
  });
}

/** `_sync_entitlements` of messages PR #572, faithful: 2 reads, early return, then per-domain update_or_create. */
export async function faithfulReferenceSync(prisma: AppPrismaClient, provider: DatabaseProvider, userId: string, adminDomains: string[]): Promise<void> {
  const entitledIds = new Set((await prisma.mailDomain.findMany({ where: { name: { in: adminDomains } }, select: { id: true } })).map((d) => d.id));
  const existingIds = new Set(
    (await prisma.mailDomainAccess.findMany({ where: { userId, role: 'ADMIN' }, select: { maildomainId: true } })).map((a) => a.maildomainId),
  );
  if (entitledIds.size === existingIds.size && [...entitledIds].every((id) => existingIds.has(id))) return;
  // entitled_domains.exclude(id__in=existing_ids): the queryset is evaluated again, whole rows.
  const toCreate = await prisma.mailDomain.findMany({ where: { name: { in: adminDomains }, id: { notIn: [...existingIds] } } });
  for (const domain of toCreate) await updateOrCreate(prisma, provider, userId, domain.id);
  const stale = [...existingIds].filter((id) => !entitledIds.has(id));
  if (stale.length === 0) return; // `__in=[]`: EmptyResultSet, Django sends nothing.
  await prisma.$transaction(async (tx) => {
    await tx.mailDomainAccess.deleteMany({ where: { userId, maildomainId: { in: stale }, role: 'ADMIN' } });
  });
}

async function measure(db: TestDatabase, run: () => Promise<unknown>): Promise<Measure> {
  db.counter.reset();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  return { statements: db.counter.count, ms, sql: [...db.counter.statements] };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').slice(0, 110);

/** Median ms of `count` trivial statements: the floor of one round trip through Prisma. */
async function roundTripFloor(db: TestDatabase): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) await db.prisma.$queryRaw`SELECT 1`;
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    await db.prisma.$queryRaw`SELECT 1`;
    samples.push(performance.now() - started);
  }
  return median(samples);
}

async function benchProvider(provider: DatabaseProvider): Promise<{ rows: string[]; floor: number }> {
  const rows: string[] = [];
  let floor = 0;
  for (const n of SIZES) {
    const db = await createTestDatabase(provider);
    if (n === SIZES[0]) floor = await roundTripFloor(db);
    const churn = Math.max(1, Math.round(n / 10));
    const names = Array.from({ length: n + churn }, (_, i) => `d${i}.bench.example`);
    await createDomains(db.prisma, names);
    const first = names.slice(0, n);
    const churned = names.slice(churn, n + churn);
    const sync = new AdminRoleSync({ prisma: db.prisma, provider, logger: silent, options: { preserveManual: false, maxRevocations: 0, dryRun: false } });
    const withRef = n <= REF_MAX;
    const samples = new Map<Scenario, { ours: Measure[]; ref: Measure[] }>(SCENARIOS.map((s) => [s, { ours: [], ref: [] }]));

    for (let rep = 0; rep < repeatsFor(n); rep++) {
      const ours = await db.prisma.user.create({ data: { email: `ours${rep}@bench.example`, sub: `ours${rep}` } });
      const theirs = await db.prisma.user.create({ data: { email: `ref${rep}@bench.example`, sub: `ref${rep}` } });
      for (const [scenario, list] of [
        ['first sync', first],
        ['in sync', first],
        ['10 % churn', churned],
      ] as [Scenario, string[]][]) {
        const runOurs = async () => {
          const result = await sync.sync(ours, { can_access: true, can_admin_maildomains: list });
          if (result.outcome === 'failed') throw new Error(`ours failed (${scenario}, N=${n})`);
        };
        const runRef = () => faithfulReferenceSync(db.prisma, provider, theirs.id, list);
        const bucket = samples.get(scenario)!;
        // Alternate which runs first, so neither always gets the warmer caches.
        if (rep % 2 === 0) {
          bucket.ours.push(await measure(db, runOurs));
          if (withRef) bucket.ref.push(await measure(db, runRef));
        } else {
          if (withRef) bucket.ref.push(await measure(db, runRef));
          bucket.ours.push(await measure(db, runOurs));
        }
      }
      // Both end in the same state: the churned list, ADMIN, nothing else.
      const [a, b] = await Promise.all(
        [ours.id, theirs.id].map(async (userId) =>
          (await db.prisma.mailDomainAccess.findMany({ where: { userId, role: 'ADMIN' }, include: { maildomain: true } })).map((r) => r.maildomain.name).sort(),
        ),
      );
      if (withRef && JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`end states differ at N=${n}`);
      if (a!.length !== churned.length) throw new Error(`ours ends with ${a!.length} rows, expected ${churned.length}`);
    }

    for (const scenario of SCENARIOS) {
      const { ours, ref } = samples.get(scenario)!;
      const oursStatements = new Set(ours.map((m) => m.statements));
      const refStatements = new Set(ref.map((m) => m.statements));
      if (oursStatements.size > 1 || refStatements.size > 1) process.stderr.write(`warning: statement counts vary ${scenario} N=${n}\n`);
      const o = { statements: ours[0]!.statements, ms: median(ours.map((m) => m.ms)) };
      if (SHOW_SQL && n === 1) {
        process.stderr.write(`\n-- ${provider} ${scenario} ours (${o.statements}):\n${ours[0]!.sql.map(oneLine).join('\n')}\n`);
        if (withRef) process.stderr.write(`-- ${provider} ${scenario} reference (${ref[0]!.statements}):\n${ref[0]!.sql.map(oneLine).join('\n')}\n`);
      }
      if (!withRef) {
        rows.push(`| ${provider} | ${n.toLocaleString('en')} | ${scenario} | ${ours.length} | ${o.statements} | ${o.ms.toFixed(1)} | (skipped) | | | |`);
        continue;
      }
      const r = { statements: ref[0]!.statements, ms: median(ref.map((m) => m.ms)) };
      rows.push(
        `| ${provider} | ${n.toLocaleString('en')} | ${scenario} | ${ours.length} | ${o.statements} | ${o.ms.toFixed(1)} | ${r.statements.toLocaleString('en')} | ${r.ms.toFixed(1)} | ${(r.statements / o.statements).toFixed(2)}× | ${(r.ms / o.ms).toFixed(2)}× |`,
      );
    }
    process.stderr.write(`${provider} N=${n} done\n`);
    await db.drop();
  }
  return { rows, floor };
}

const INSYNC_ROUNDS = Number(process.env.BENCH_INSYNC_ROUNDS ?? 30);

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))]!;
}

/** The in-sync case only, many interleaved rounds. */
async function benchInSync(provider: DatabaseProvider): Promise<string[]> {
  const rows: string[] = [];
  for (const n of SIZES) {
    const db = await createTestDatabase(provider);
    const names = Array.from({ length: n }, (_, i) => `d${i}.bench.example`);
    await createDomains(db.prisma, names);
    const sync = new AdminRoleSync({ prisma: db.prisma, provider, logger: silent, options: { preserveManual: false, maxRevocations: 0, dryRun: false } });
    const ours = await db.prisma.user.create({ data: { email: 'ours@bench.example', sub: 'ours' } });
    const theirs = await db.prisma.user.create({ data: { email: 'ref@bench.example', sub: 'ref' } });
    const answer = { can_access: true, can_admin_maildomains: names };
    await sync.sync(ours, answer);
    // The reference user gets the same rows directly (its own first sync of 10,000 takes ~25 s).
    const rowsOfOurs = await db.prisma.mailDomainAccess.findMany({ where: { userId: ours.id }, select: { maildomainId: true } });
    for (let i = 0; i < rowsOfOurs.length; i += 2000) {
      await db.prisma.mailDomainAccess.createMany({
        data: rowsOfOurs
          .slice(i, i + 2000)
          .map(({ maildomainId }) => ({ userId: theirs.id, maildomainId, role: 'ADMIN' as const, source: 'ENTITLEMENTS' as const })),
      });
    }
    const o: Measure[] = [];
    const r: Measure[] = [];
    for (let round = 0; round < INSYNC_ROUNDS + 3; round++) {
      const runOurs = async () => {
        const result = await sync.sync(ours, answer);
        if (result.outcome !== 'in_sync') throw new Error(`ours: ${result.outcome}`);
      };
      const runRef = () => faithfulReferenceSync(db.prisma, provider, theirs.id, names);
      const pair =
        round % 2 === 0 ? [await measure(db, runOurs), await measure(db, runRef)] : [await measure(db, runRef), await measure(db, runOurs)].reverse();
      if (round < 3) continue; // warm-up
      o.push(pair[0]!);
      r.push(pair[1]!);
    }
    const om = median(o.map((m) => m.ms));
    const rm = median(r.map((m) => m.ms));
    rows.push(
      `| ${provider} | ${n.toLocaleString('en')} | ${INSYNC_ROUNDS} | ${o[0]!.statements} | ${om.toFixed(2)} | ${p95(o.map((m) => m.ms)).toFixed(2)} | ${r[0]!.statements} | ${rm.toFixed(2)} | ${p95(r.map((m) => m.ms)).toFixed(2)} | ${(rm / om).toFixed(2)}× |`,
    );
    process.stderr.write(`in-sync ${provider} N=${n} done\n`);
    await db.drop();
  }
  return rows;
}

const CACHE_OFFERED = Number(process.env.BENCH_CACHE_OFFERED ?? 1_000_000);

function rssMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 1024 / 1024;
}

/** Resident memory while answers are offered to the bounded in-process cache (ENTITLEMENTS_CACHE_MAX_KEYS = 100,000). */
async function benchCacheMemory(): Promise<string[]> {
  const maxKeys = 100_000;
  const store = new MemoryCacheStore(maxKeys);
  const answer = (i: number) => ({
    value: { can_access: true, can_admin_maildomains: [`d${i}.example.fr`, `e${i}.example.fr`], can_create: true },
    fetchedAt: Date.now(),
  });
  const rows = ['| answers offered | answers kept | resident memory (MiB) |', '|---:|---:|---:|', `| 0 | 0 | ${rssMiB().toFixed(0)} |`];
  const checkpoints = new Set([100_000, 250_000, 500_000, 750_000, 1_000_000].filter((n) => n <= CACHE_OFFERED));
  for (let i = 1; i <= CACHE_OFFERED; i++) {
    await store.set(`oidc-entitlements:entitlements:user:sub-${i}`, answer(i), 86400);
    if (checkpoints.has(i)) rows.push(`| ${i.toLocaleString('en')} | ${store.size.toLocaleString('en')} | ${rssMiB().toFixed(0)} |`);
  }
  await store.close();
  return rows;
}

async function main(): Promise<void> {
  const available = await benchmarkProviders();
  const wanted = (process.env.BENCH_PROVIDERS ?? 'sqlite,postgresql').split(',');
  const providers = available.filter((p) => wanted.includes(p));
  const rows: string[] = [];
  const floors: string[] = [];
  const onlyInSync = process.env.BENCH_ONLY_INSYNC === '1';
  for (const provider of onlyInSync ? [] : providers) {
    const { rows: providerRows, floor } = await benchProvider(provider);
    rows.push(...providerRows);
    floors.push(`${provider}: ${floor.toFixed(3)} ms`);
  }
  if (!onlyInSync) {
    console.log('### Admin-role sync vs faithful reference (messages PR #572): statements and wall time (BEGIN, SAVEPOINT, COMMIT counted)\n');
    console.log('ms = median over the runs; ratio = reference / ours (above 1: ours is better).\n');
    console.log(
      '| database | N domains | scenario | runs | ours: statements | ours: ms | reference: statements | reference: ms | statements ratio | time ratio |',
    );
    console.log('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) console.log(row);
  }
  if (INSYNC_ROUNDS > 0) {
    const inSync: string[] = [];
    for (const provider of providers) inSync.push(...(await benchInSync(provider)));
    console.log('\n### In sync only, interleaved rounds (ms)\n');
    console.log(
      '| database | N domains | rounds | ours: statements | ours: median | ours: p95 | reference: statements | reference: median | reference: p95 | time ratio (median) |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of inSync) console.log(row);
  }
  if (!onlyInSync) console.log(`\nOne trivial statement (\`SELECT 1\` through Prisma), median of 200: ${floors.join(', ')}`);
  if (CACHE_OFFERED > 0 && !onlyInSync) {
    console.log('\n### In-process entitlements cache (lru-cache, ENTITLEMENTS_CACHE_MAX_KEYS = 100,000), resident memory\n');
    for (const row of await benchCacheMemory()) console.log(row);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
