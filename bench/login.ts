/**
 * `npm run bench:login`: median and p95 of the whole OIDC callback (code exchange with a local
 * oidc-provider, userinfo, user rules, session) with the entitlements step (forced refresh + sync of a
 * user already in sync) against the same callback with that step switched off, interleaved in one run;
 * then an entitlements fetch served from the cache against a forced refresh. SQLite, and PostgreSQL
 * when reachable (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server).
 */
import { performance } from 'node:perf_hooks';
import { stats } from './stats';
import type { DatabaseProvider } from '../src/db/provider';
import { createTestDatabase, benchmarkProviders } from '../test/support/databases';
import { createDomains } from '../test/support/fixtures';
import { startLoginHarness, type LoginHarness } from '../test/support/login-harness';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const DOMAINS = 10;
const EMAIL = 'alice@example.fr';

async function timeCallback(h: LoginHarness): Promise<number> {
  const browser = h.browser();
  const callback = await h.authorize(browser, 'alice');
  const started = performance.now();
  const page = await browser.request(callback);
  const elapsed = performance.now() - started;
  if (page.status !== 302) throw new Error(`callback answered ${page.status}: ${page.body.slice(0, 200)}`);
  return elapsed;
}

async function benchProvider(provider: DatabaseProvider): Promise<string[]> {
  const db = await createTestDatabase(provider);
  const domains = Array.from({ length: DOMAINS }, (_, i) => `d${i}.bench.example`);
  await createDomains(db.prisma, domains);
  const withSync = await startLoginHarness(db);
  const withoutSync = await startLoginHarness(db, {}, { syncOnLogin: false });
  for (const h of [withSync, withoutSync]) h.dc.entitlementsByEmail.set(EMAIL, { can_access: true, can_admin_maildomains: domains });
  await withSync.login(withSync.browser(), 'alice'); // first login: grants; every timed one is in sync
  for (let i = 0; i < 10; i++) {
    await timeCallback(withSync);
    await timeCallback(withoutSync);
  }
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    on.push(await timeCallback(withSync));
    off.push(await timeCallback(withoutSync));
  }
  const fresh: number[] = [];
  const forced: number[] = [];
  const request = { sub: 'alice', email: EMAIL };
  for (let i = 0; i < ROUNDS * 2; i++) {
    let started = performance.now();
    await withSync.lib.getEntitlements(request);
    fresh.push(performance.now() - started);
    started = performance.now();
    await withSync.lib.getEntitlements({ ...request, forceRefresh: true });
    forced.push(performance.now() - started);
  }
  await withSync.close();
  await withoutSync.close();
  await db.drop();

  const a = stats(on);
  const b = stats(off);
  const c = stats(fresh);
  const d = stats(forced);
  const pct = (x: number, y: number) => `${(((x - y) / y) * 100).toFixed(0)} %`;
  return [
    `| ${provider} | callback, entitlements step off | ${b.median.toFixed(2)} | ${b.p95.toFixed(2)} | |`,
    `| ${provider} | callback with forced refresh + sync (in sync, ${DOMAINS} domains) | ${a.median.toFixed(2)} | ${a.p95.toFixed(2)} | +${pct(a.median, b.median)} median, +${pct(a.p95, b.p95)} p95 |`,
    `| ${provider} | entitlements fetch, fresh cache hit | ${c.median.toFixed(3)} | ${c.p95.toFixed(3)} | |`,
    `| ${provider} | entitlements fetch, forced refresh (HTTP to the local stand-in) | ${d.median.toFixed(3)} | ${d.p95.toFixed(3)} | |`,
  ];
}

async function main(): Promise<void> {
  const providers = await benchmarkProviders();
  const rows: string[] = [];
  for (const provider of providers) rows.push(...(await benchProvider(provider)));
  console.log(`### Login callback (${ROUNDS} rounds each, interleaved), milliseconds\n`);
  console.log('| database | measure | median | p95 | added by the entitlements step |');
  console.log('|---|---|---:|---:|---|');
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
