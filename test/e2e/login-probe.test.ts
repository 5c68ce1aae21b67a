import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';
import { createDomains } from '../support/fixtures';
let db: TestDatabase; let h: LoginHarness;
beforeAll(async () => { db = await createTestDatabase('sqlite'); h = await startLoginHarness(db); });
afterAll(async () => { await h.close(); await db.drop(); });
it('logs in', async () => {
  await createDomains(db.prisma, ['a.fr']);
  h.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: ['a.fr'] });
  const b = h.browser();
  const page = await h.login(b, 'alice');
  console.log(page.status, page.url, page.body.slice(0, 300), JSON.stringify(h.logger.entries).slice(0, 2000));
  console.log(await h.whoami(b));
  console.log(await db.prisma.mailDomainAccess.count(), h.dc.requests.map((r) => r.query));
});
