import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Browser, loginAt } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { DeployCenterStandIn } from '../support/deploycenter-server';
import { adminDomainsOf, createDomains } from '../support/fixtures';
import { freePort } from '../support/net';
import { startReferenceServer, type ReferenceServer } from '../support/reference-server';
import { createDevIdp, idpRequestListener, type DemoAccount } from '../../src/development/idp';

const USERS: DemoAccount[] = Array.from({ length: 10 }, (_, i) => ({
  id: `user${i}`,
  email: `user${i}@example.fr`,
  given_name: `User${i}`,
  family_name: 'Test',
}));
const DOMAINS = Array.from({ length: 8 }, (_, i) => `d${i}.example.fr`);

/** Two reference servers on one PostgreSQL database and one Redis, behind one IdP and one DeployCenter. */
(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL ? describe : describe.skip)('several instances on PostgreSQL + Redis', () => {
  let db: TestDatabase;
  const dc = new DeployCenterStandIn();
  let idp: Server;
  let instances: ReferenceServer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    await createDomains(db.prisma, DOMAINS);
    await dc.start();
    idp = createServer();
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const ports = [await freePort(), await freePort()];
    const secret = randomBytes(16).toString('hex');
    const provider = await createDevIdp({
      issuer,
      clients: [
        {
          client_id: 'app',
          client_secret: secret,
          redirect_uris: ports.map((p) => `http://localhost:${p}/api/v1.0/callback/`),
          post_logout_redirect_uris: ports.map((p) => `http://localhost:${p}/`),
        },
      ],
      accounts: USERS,
    });
    idp.on('request', idpRequestListener(provider));
    const shared = {
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      SESSION_SECRET: randomBytes(16).toString('hex'),
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'app',
      OIDC_CLIENT_SECRET: secret,
      OIDC_ALLOW_INSECURE_HTTP: 'true',
      ENTITLEMENTS_BACKEND: 'deploycenter',
      ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: dc.url, service_id: 'messages', timeout: 5 }),
      ENTITLEMENTS_API_KEY: 'dc-key',
      ENTITLEMENTS_CACHE_PREFIX: `instances-${randomBytes(4).toString('hex')}`,
    };
    instances = await Promise.all(
      ports.map((port) => startReferenceServer({ ...shared, PORT: String(port), OIDC_REDIRECT_URI: `http://localhost:${port}/api/v1.0/callback/` }, port)),
    );
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    idp.closeAllConnections();
    await new Promise<void>((resolve) => idp.close(() => resolve()));
    await dc.stop();
    await db.drop();
  });

  const login = async (browser: Browser, instance: ReferenceServer, account: string) => (await loginAt(browser, instance.url, account)).status;

  const me = async (browser: Browser, instance: ReferenceServer) =>
    browser.request(`${instance.url}/api/v1.0/users/me/`, { headers: { accept: 'application/json' } });

  it('a session made on one instance is valid on the other, and a logout on either ends it everywhere', async () => {
    const [a, b] = instances as [ReferenceServer, ReferenceServer];
    dc.entitlementsByEmail.set('user0@example.fr', { can_access: true, can_admin_maildomains: [] });
    const browser = new Browser();
    expect(await login(browser, a, 'user0')).toBe(200);
    expect(JSON.parse((await me(browser, b)).body)).toMatchObject({ email: 'user0@example.fr' });
    await browser.request(`${b.url}/api/v1.0/logout/`, { method: 'POST' });
    expect((await me(browser, a)).status).toBe(401);
  });

  it('50 logins of 10 users with changing answers, across both, end with the right rows and one audit row per change', async () => {
    await db.prisma.accessEvent.deleteMany();
    await db.prisma.mailDomainAccess.deleteMany();
    const requestsBefore = dc.requests.length;
    let expectedChanges = 0;
    const finalAnswers = new Map<string, string[]>();
    await Promise.all(
      USERS.map(async (account, u) => {
        let previous: string[] = [];
        for (let round = 0; round < 5; round++) {
          const answer = DOMAINS.filter((_, d) => (u + round * (d + 1)) % 3 !== 0);
          expectedChanges += answer.filter((d) => !previous.includes(d)).length + previous.filter((d) => !answer.includes(d)).length;
          previous = answer;
          dc.entitlementsByEmail.set(account.email, { can_access: true, can_admin_maildomains: answer });
          expect(await login(new Browser(), instances[(u + round) % 2]!, account.id)).toBe(200);
        }
        finalAnswers.set(account.email, previous);
      }),
    );
    for (const account of USERS) {
      const user = await db.prisma.user.findFirstOrThrow({ where: { email: account.email } });
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual([...finalAnswers.get(account.email)!].sort());
    }
    expect(await db.prisma.accessEvent.count()).toBe(expectedChanges);
    expect(dc.requests.length - requestsBefore).toBeLessThanOrEqual(50);
  });
});
