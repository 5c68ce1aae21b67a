/**
 * `npm run bench:resync`: the resync command as an operator runs it (`--all`, a child process) over
 * BENCH_USERS (10,000) users with 10 entitled domains each, against a local DeployCenter stand-in answering
 * after BENCH_UPSTREAM_MS (0), on PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local
 * server), at each concurrency of BENCH_CONCURRENCY (16,64,128);
 * then logins per second across two reference servers sharing PostgreSQL and Redis (REDIS_URL, else
 * TEST_REDIS_URL, else the local server).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createDevIdp, idpRequestListener, type DemoAccount } from '../src/development/idp';
import { mapConcurrently } from '../src/sync/resync';
import { Browser, loginAt } from '../test/support/browser';
import { createTestDatabase, type TestDatabase } from '../test/support/databases';
import { DeployCenterStandIn } from '../test/support/deploycenter-server';
import { runResyncCommand } from '../test/support/resync-command';
import { createDomains } from '../test/support/fixtures';
import { freePort } from '../test/support/net';
import { startReferenceServer } from '../test/support/reference-server';

const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '16,64,128').split(',').map(Number);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 200);
/** DeployCenter's latency: the stand-in answers after this many milliseconds (0: at once). */
const UPSTREAM_MS = Number(process.env.BENCH_UPSTREAM_MS ?? 0);

async function runResync(db: TestDatabase, dc: DeployCenterStandIn, concurrency: number): Promise<number> {
  const started = performance.now();
  const run = await runResyncCommand(['--all', '--concurrency', String(concurrency)], db.url, dc.url, 10);
  if (run.code !== 0) throw new Error(`resync exited ${run.code}: ${run.stderr}`);
  return (performance.now() - started) / 1000;
}

async function benchResync(): Promise<string[]> {
  const db = await createTestDatabase('postgresql');
  const dc = await new DeployCenterStandIn().start();
  dc.recordRequests = false;
  if (UPSTREAM_MS > 0) dc.reply = (request) => ({ ...dc.defaultReply(request), delayMs: UPSTREAM_MS });
  const pool = Array.from({ length: 1000 }, (_, i) => `r${i}.bench.example`);
  await createDomains(db.prisma, pool);
  const users = Array.from({ length: USERS }, (_, i) => ({ sub: `bench-${i}`, email: `u${i}@bench.example` }));
  for (let i = 0; i < users.length; i += 2000) await db.prisma.user.createMany({ data: users.slice(i, i + 2000) });
  users.forEach((user, i) =>
    dc.entitlementsByEmail.set(user.email, {
      can_access: true,
      can_admin_maildomains: Array.from({ length: 10 }, (_, d) => pool[(i * 7 + d * 97) % pool.length]),
    }),
  );
  const rows: string[] = [];
  for (const concurrency of CONCURRENCIES) {
    await db.prisma.accessEvent.deleteMany();
    await db.prisma.mailDomainAccess.deleteMany();
    const grants = await runResync(db, dc, concurrency);
    const inSync = await runResync(db, dc, concurrency);
    rows.push(`| ${concurrency} | ${(USERS / grants).toFixed(0)} (${grants.toFixed(1)} s) | ${(USERS / inSync).toFixed(0)} (${inSync.toFixed(1)} s) |`);
    process.stderr.write(`resync concurrency ${concurrency} done\n`);
  }
  await dc.stop();
  await db.drop();
  return rows;
}

async function benchLogins(): Promise<string> {
  const db = await createTestDatabase('postgresql');
  const dc = await new DeployCenterStandIn().start();
  const domains = Array.from({ length: 10 }, (_, i) => `l${i}.bench.example`);
  await createDomains(db.prisma, domains);
  const accounts: DemoAccount[] = Array.from({ length: 50 }, (_, i) => ({
    id: `login${i}`,
    email: `login${i}@bench.example`,
    given_name: 'L',
    family_name: `${i}`,
  }));
  for (const account of accounts) dc.entitlementsByEmail.set(account.email, { can_access: true, can_admin_maildomains: domains });
  const idp = createServer();
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const ports = [await freePort(), await freePort()];
  const secret = randomBytes(12).toString('hex');
  const provider = await createDevIdp({
    issuer,
    clients: [
      { client_id: 'bench', client_secret: secret, redirect_uris: ports.map((p) => `http://localhost:${p}/api/v1.0/callback/`), post_logout_redirect_uris: [] },
    ],
    accounts,
  });
  idp.on('request', idpRequestListener(provider));
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    SESSION_SECRET: secret,
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: 'bench',
    OIDC_CLIENT_SECRET: secret,
    OIDC_ALLOW_INSECURE_HTTP: 'true',
    ENTITLEMENTS_BACKEND: 'deploycenter',
    ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: dc.url, service_id: 'bench', timeout: 10 }),
    ENTITLEMENTS_API_KEY: 'k',
    ENTITLEMENTS_CACHE_PREFIX: `bench-${secret}`,
  };
  const servers = await Promise.all(
    ports.map((port) =>
      startReferenceServer(
        {
          RATE_LIMIT_PER_MINUTE: '0' /* one client address: the limit would be all it measures */,
          ...env,
          PORT: String(port),
          OIDC_REDIRECT_URI: `http://localhost:${port}/api/v1.0/callback/`,
        },
        port,
      ),
    ),
  );
  const login = async (index: number) => {
    const final = await loginAt(new Browser(), servers[index % 2]!.url, accounts[index % accounts.length]!.id);
    if (final.status !== 200) throw new Error(`login ${index} ended on ${final.status}`);
  };
  await mapConcurrently(
    Array.from({ length: 20 }, (_, i) => i),
    4,
    login,
  );
  const started = performance.now();
  await mapConcurrently(
    Array.from({ length: LOGINS }, (_, i) => i),
    8,
    login,
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(servers.map((server) => server.stop()));
  idp.closeAllConnections();
  idp.close();
  await dc.stop();
  await db.drop();
  return `${LOGINS} logins (8 at a time, alternating between the two instances, IdP forms and consent included): ${(LOGINS / seconds).toFixed(1)} logins/s (${seconds.toFixed(1)} s)`;
}

async function main(): Promise<void> {
  process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const resync = await benchResync();
  const logins = await benchLogins();
  console.log(
    `### Resync --all over ${USERS.toLocaleString('en')} users, 10 domains each (PostgreSQL), DeployCenter answering in ${UPSTREAM_MS} ms, users per second\n`,
  );
  console.log('| concurrency | first run (every user gets 10 grants) | second run (all in sync) |');
  console.log('|---:|---:|---:|');
  for (const row of resync) console.log(row);
  console.log(`\n### Two instances (PostgreSQL + Redis)\n\n${logins}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
