/**
 * `npm run bench:sessions`: the login callback and a logged-in request with sessions in the database
 * (the default) against sessions in Redis (SESSION_STORE=redis), interleaved in one run, median and
 * p95; and the session statements a logged-in request sends. SQLite and PostgreSQL (when reachable);
 * Redis from BENCH_REDIS_URL, else TEST_REDIS_URL, else the local server.
 */
import { performance } from 'node:perf_hooks';
import { stats } from './stats';
import type { DatabaseProvider } from '../src/db/provider';
import { benchmarkProviders, createTestDatabase } from '../test/support/databases';
import { startLoginHarness, type LoginHarness } from '../test/support/login-harness';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One login's callback and then one logged-in request, timed. */
async function timeLogin(h: LoginHarness): Promise<{ callback: number; request: number }> {
  const browser = h.browser();
  const url = await h.authorize(browser, 'alice');
  let started = performance.now();
  const page = await browser.request(url);
  const callback = performance.now() - started;
  if (page.status !== 302) throw new Error(`callback answered ${page.status}`);
  started = performance.now();
  await browser.request(`${h.appUrl}/whoami`);
  return { callback, request: performance.now() - started };
}

async function benchProvider(provider: DatabaseProvider): Promise<string[]> {
  const db = await createTestDatabase(provider);
  const common = { REDIS_URL, ENTITLEMENTS_CACHE_PREFIX: `bench-sessions-${process.pid}` };
  const inDatabase = await startLoginHarness(db, common);
  const inRedis = await startLoginHarness(db, { ...common, SESSION_STORE: 'redis' });
  for (const h of [inDatabase, inRedis]) h.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: [] });
  for (let i = 0; i < 10; i++) for (const h of [inDatabase, inRedis]) await timeLogin(h);
  const samples = { database: { callback: [] as number[], request: [] as number[] }, redis: { callback: [] as number[], request: [] as number[] } };
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, h] of [
      ['database', inDatabase],
      ['redis', inRedis],
    ] as const) {
      const { callback, request } = await timeLogin(h);
      samples[name].callback.push(callback);
      samples[name].request.push(request);
    }
  }
  // What a logged-in request costs the sessions table.
  const browser = inDatabase.browser();
  await inDatabase.login(browser, 'alice');
  db.counter.reset();
  for (let i = 0; i < 20; i++) await browser.request(`${inDatabase.appUrl}/whoami`);
  const sessionStatements = db.counter.statements.filter((sql) => /sessions/.test(sql));
  const writes = sessionStatements.filter((sql) => /^\s*(INSERT|UPDATE|DELETE)/i.test(sql)).length;
  await inDatabase.close();
  await inRedis.close();
  await db.drop();

  const row = (measure: string, a: number[], b: number[]) => {
    const [x, y] = [stats(a), stats(b)];
    return `| ${provider} | ${measure} | ${x.median.toFixed(2)} / ${x.p95.toFixed(2)} | ${y.median.toFixed(2)} / ${y.p95.toFixed(2)} | ${(x.median / y.median).toFixed(2)}× |`;
  };
  return [
    row('login callback', samples.database.callback, samples.redis.callback),
    row('logged-in request', samples.database.request, samples.redis.request),
    `| ${provider} | session statements per logged-in request (20 requests) | ${sessionStatements.length / 20} read, ${writes / 20} write | | |`,
  ];
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const provider of await benchmarkProviders()) rows.push(...(await benchProvider(provider)));
  console.log(`### Sessions in the database vs in Redis (${ROUNDS} logins each, interleaved), milliseconds\n`);
  console.log('| database | measure | database sessions: median / p95 | Redis sessions: median / p95 | database ÷ Redis (median) |');
  console.log('|---|---|---:|---:|---:|');
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
