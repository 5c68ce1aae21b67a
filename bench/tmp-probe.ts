import { performance } from 'node:perf_hooks';
import { Browser } from '../test/support/browser';
import { createTestDatabase } from '../test/support/databases';
import { startLoginHarness } from '../test/support/login-harness';

const KEY = 'k'.repeat(40);
const count = (statuses: number[]) => Object.entries(statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {})).map(([s, n]) => `${n}×${s}`).join(', ');

async function main() {
  process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/test';
  const db = await createTestDatabase('postgresql');
  const h = await startLoginHarness(db, { PROVISIONING_API_KEY: KEY, RATE_LIMIT_PER_MINUTE: '60' });
  const api = (path: string, init: Parameters<Browser['request']>[1] = {}) => new Browser('application/json').request(`${h.appUrl}/api/v1.0${path}`, init);

  let t = performance.now();
  const wrong: number[] = [];
  for (let i = 0; i < 300; i++) wrong.push((await api('/provisioning/maildomains/', { method: 'POST', json: { domains: ['a.fr'] }, headers: { authorization: `Bearer wrong-${i}` } })).status);
  console.log(`300 wrong bearer keys in ${((performance.now() - t) / 1000).toFixed(2)} s: ${count(wrong)}; logged: ${h.logger.entries.filter((e) => e.message === 'API key refused').length} "API key refused" lines, ${h.logger.entries.filter((e) => e.message === 'rate limit reached').length} "rate limit reached"`);

  const forged: number[] = [];
  for (let i = 0; i < 200; i++) forged.push((await api(`/callback/?code=forged${i}&state=forged${i}`)).status);
  console.log(`200 forged callbacks: ${count(forged)}`);

  const before = await db.prisma.session.count();
  const auth: number[] = [];
  for (let i = 0; i < 500; i++) auth.push((await api('/authenticate/')).status);
  const rows = await db.prisma.session.findMany({ orderBy: { expiresAt: 'desc' }, take: 1 });
  console.log(`500 anonymous authenticate/: ${count(auth)}; session rows stored: ${(await db.prisma.session.count()) - before}, the longest expiring in ${rows[0] ? Math.round((rows[0].expiresAt.getTime() - Date.now()) / 60000) : 0} min`);

  await db.prisma.$executeRawUnsafe(`INSERT INTO mail_domains (id, name, custom_attributes, created_at, updated_at) SELECT 'd' || g, 'd' || g || '.probe.fr', '{}', now(), now() FROM generate_series(1, 300000) g`);
  await db.prisma.user.create({ data: { sub: 'bob', email: 'bob@example.fr', isSuperuser: true } });
  const bob = h.browser();
  await h.login(bob, 'bob');
  t = performance.now();
  const whole = await bob.request(`${h.appUrl}/api/v1.0/maildomains/`, { headers: { accept: 'application/json' } });
  const wholeMs = performance.now() - t;
  t = performance.now();
  const page = await bob.request(`${h.appUrl}/api/v1.0/maildomains/?page=2&page_size=100`, { headers: { accept: 'application/json' } });
  console.log(`superuser list of 300,000 domains: whole array ${(whole.body.length / 1e6).toFixed(1)} MB in ${(wholeMs / 1000).toFixed(2)} s; ?page=2&page_size=100: ${(page.body.length / 1e3).toFixed(1)} kB in ${(performance.now() - t).toFixed(0)} ms, count ${JSON.parse(page.body).count}`);
  await h.close();
  await db.drop();
}
main().catch((e) => { console.error(e); process.exit(1); });
