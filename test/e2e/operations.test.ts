import { Browser } from '../support/browser';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { DeployCenterStandIn } from '../support/deploycenter-server';
import { runResyncCommand } from '../support/resync-command';
import { adminDomainsOf, createDomains } from '../support/fixtures';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';
import { expectDocumented } from '../support/openapi-check';

const ALICE = 'alice@example.fr';

describe.each(PROVIDERS_UNDER_TEST)('the resync command on %s', (provider) => {
  let db: TestDatabase;
  const dc = new DeployCenterStandIn();
  beforeAll(async () => {
    db = await createTestDatabase(provider);
    await dc.start();
  });
  afterAll(async () => {
    await dc.stop();
    await db.drop();
  });
  beforeEach(async () => {
    await db.truncate();
    dc.reset();
  });

  const resync = (...args: string[]) => runResyncCommand(args, db.url, dc.url);

  async function adminOf(email: string, domains: string[]) {
    const user = await db.prisma.user.create({ data: { sub: email.split('@')[0], email } });
    const rows = await db.prisma.mailDomain.findMany({ where: { name: { in: domains } } });
    await db.prisma.mailDomainAccess.createMany({
      data: rows.map((d) => ({ userId: user.id, maildomainId: d.id, role: 'ADMIN' as const, source: 'ENTITLEMENTS' as const })),
    });
    return user;
  }

  it('--all revokes the rights DeployCenter removed from a user who never logs in again', async () => {
    await createDomains(db.prisma, ['a.fr', 'b.fr']);
    const alice = await adminOf(ALICE, ['a.fr', 'b.fr']);
    const bob = await adminOf('bob@example.fr', ['b.fr']);
    dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr'] });
    dc.entitlementsByEmail.set('bob@example.fr', { can_access: true, can_admin_maildomains: ['b.fr'] });
    const run = await resync('--all');
    expect(run.code).toBe(0);
    expect(await adminDomainsOf(db.prisma, alice.id)).toEqual(['a.fr']);
    expect(await adminDomainsOf(db.prisma, bob.id)).toEqual(['b.fr']);
    expect(run.stdout).toContain(`user ${alice.id}: applied (granted 0, upgraded 0, revoked 1)`);
    expect(run.stdout).not.toContain(`user ${bob.id}`); // in sync: counted in the summary only
    expect(run.stdout).toMatch(/users\s+2\n/);
    expect(run.stdout).toMatch(/revoked\s+1\n/);
    expect((await resync('--all')).stdout).toMatch(/outcome in_sync\s+2/); // safe to run again
  });

  it('--dry-run prints the diff and writes nothing', async () => {
    await createDomains(db.prisma, ['a.fr', 'b.fr']);
    const alice = await adminOf(ALICE, ['a.fr']);
    dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['b.fr'] });
    const run = await resync('--email', 'ALICE@example.fr', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`user ${alice.id}: dry_run (granted 1, upgraded 0, revoked 1) +[b.fr] ^[] -[a.fr]`);
    expect(run.stdout).toContain('dry run, nothing written');
    expect(await adminDomainsOf(db.prisma, alice.id)).toEqual(['a.fr']);
    expect(await db.prisma.accessEvent.count()).toBe(0);
  });

  it('leaves a user untouched and exits non-zero when DeployCenter fails for them', async () => {
    await createDomains(db.prisma, ['a.fr']);
    const alice = await adminOf(ALICE, ['a.fr']);
    await adminOf('bob@example.fr', []);
    dc.entitlementsByEmail.set('bob@example.fr', { can_access: true, can_admin_maildomains: [] });
    dc.reply = (request) => (request.query.account_email === ALICE ? { status: 500 } : dc.defaultReply(request));
    const run = await resync('--all', '--concurrency', '2');
    expect(run.code).toBe(1);
    expect(await adminDomainsOf(db.prisma, alice.id)).toEqual(['a.fr']);
    expect(run.stdout).toMatch(/outcome unavailable\s+1/);
    expect(run.stderr).toContain('1 user(s) could not be synced');
  });

  it('revokes the admin rows of an inactive user without asking DeployCenter', async () => {
    await createDomains(db.prisma, ['a.fr']);
    const alice = await adminOf(ALICE, ['a.fr']);
    await db.prisma.user.update({ where: { id: alice.id }, data: { isActive: false } });
    expect((await resync('--sub', 'alice')).code).toBe(0);
    expect(await adminDomainsOf(db.prisma, alice.id)).toEqual([]);
    expect(dc.requests).toHaveLength(0);
  });

  it('says how to use it when the arguments are wrong', async () => {
    const run = await resync('--all', '--email', 'x@y.fr');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('name the users: one of --all, --email E, --sub S');
    expect(run.stderr).toContain('oidc-entitlements resync --prisma MODULE');
  });
});

describe('the resync webhook and the metrics', () => {
  let db: TestDatabase;
  let h: LoginHarness;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    h = await startLoginHarness(db, { PROVISIONING_API_KEY: 'prov-key', RESYNC_API_KEY: 'resync-key' });
  });
  afterAll(async () => {
    await h.close();
    await db.drop();
  });

  const webhook = async (json: unknown, key: string | null = 'resync-key') => {
    const page = await new Browser('application/json').request(`${h.appUrl}/api/v1.0/entitlements/resync/`, {
      json,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    expectDocumented(page);
    return { status: page.status, json: JSON.parse(page.body) };
  };

  it('answers 403 without its own key (the provisioning key is not it when RESYNC_API_KEY is set)', async () => {
    expect((await webhook({ emails: [ALICE] }, null)).status).toBe(403);
    expect((await webhook({ emails: [ALICE] }, 'prov-key')).status).toBe(403);
  });

  it.each([
    ['an empty body', {}],
    ['an empty list', { emails: [] }],
    ['a string instead of a list', { emails: ALICE }],
    ['both emails and subs', { emails: [ALICE], subs: ['x'] }],
    ['1,001 subs', { subs: Array.from({ length: 1001 }, (_, i) => `s${i}`) }],
    ['a JSON array', [ALICE]],
  ])('answers 400 for %s', async (_label, json) => {
    expect((await webhook(json)).status).toBe(400);
  });

  it('re-syncs the users now and answers one result per user', async () => {
    await db.truncate();
    await createDomains(db.prisma, ['a.fr']);
    const alice = await db.prisma.user.create({ data: { sub: 'alice', email: ALICE } });
    h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr'] });
    const page = await webhook({ emails: [' Alice@Example.fr ', 'ghost@example.fr'] });
    expect(page.status).toBe(200);
    expect(page.json.results).toEqual([
      { email: 'Alice@Example.fr', user_id: alice.id, outcome: 'applied', granted: 1, upgraded: 0, revoked: 0 },
      { email: 'ghost@example.fr', user_id: null, outcome: 'not_found', granted: 0, upgraded: 0, revoked: 0 },
    ]);
    expect((await webhook({ subs: ['alice'] })).json.results[0]).toMatchObject({ sub: 'alice', outcome: 'in_sync' });
  });

  it('serves Prometheus text whose counters follow logins, fetches and syncs, without personal data in labels', async () => {
    const read = async () => (await new Browser('text/plain').request(`${h.appUrl}/metrics`)).body;
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    const before = await read();
    h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: [] });
    await h.login(h.browser(), 'alice');
    const after = await read();
    for (const line of after.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? -?[0-9.e+-]+|NaN|[+-]Inf$/);
    }
    expect(value(after, 'oidc_entitlements_logins_total{result="success"}')).toBe(value(before, 'oidc_entitlements_logins_total{result="success"}') + 1);
    expect(value(after, 'oidc_entitlements_fetches_total{result="refresh"}')).toBeGreaterThan(
      value(before, 'oidc_entitlements_fetches_total{result="refresh"}'),
    );
    expect(after).toMatch(/^oidc_entitlements_syncs_total\{outcome="[a-z_]+"\} \d+$/m);
    expect(after).toMatch(/^oidc_entitlements_upstream_duration_seconds_count\{result="ok"\} \d+$/m);
    expect(after).not.toMatch(/alice|example\.fr/);
  });
});
