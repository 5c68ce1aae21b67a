import { createHash } from 'node:crypto';
import { DatabaseSessionStore } from '../../src/auth/database-session-store';
import type { Browser } from '../support/browser';
import { PROVIDERS_UNDER_TEST } from '../support/databases';
import { recordingLogger } from '../support/fixtures';
import { useLoginHarness } from '../support/login-harness';

const AGE_SECONDS = 3600;
const digest = (sid: string) => createHash('sha256').update(sid).digest('hex');

/** The session id inside a signed `sessionid` cookie value (`s:<id>.<signature>`). */
function sessionId(browser: Browser, url: string): string {
  const value = decodeURIComponent(browser.cookie(url, 'sessionid') ?? '');
  return value.slice(2, value.lastIndexOf('.'));
}

function cookieExpiry(setCookies: string[]): Date | undefined {
  const header = setCookies.find((cookie) => cookie.startsWith('sessionid='));
  const expires = /;\s*Expires=([^;]+)/i.exec(header ?? '')?.[1];
  return expires ? new Date(expires) : undefined;
}

/** Sessions in the `sessions` table: absolute lifetimes, no write per request, ids stored as digests. */
describe.each(PROVIDERS_UNDER_TEST)('sessions in the database on %s', (provider) => {
  const t = useLoginHarness(provider, { SESSION_COOKIE_AGE: String(AGE_SECONDS) });
  beforeEach(() => {
    t.db.counter.failWhen = null;
    t.h.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true });
  });

  it('a login lives SESSION_COOKIE_AGE from the login; the cookie and the row say the same expiry; the row holds a digest of the id', async () => {
    const browser = t.h.browser();
    const callback = await t.h.authorize(browser, 'alice');
    const loggedIn = Date.now();
    const landing = await browser.request(callback);
    expect(landing.status).toBe(302);
    const cookieExpires = cookieExpiry(landing.setCookies)!;
    expect(Math.abs(cookieExpires.getTime() - (loggedIn + AGE_SECONDS * 1000))).toBeLessThan(5000);

    const sid = sessionId(browser, t.h.appUrl);
    const rows = await t.db.prisma.session.findMany();
    expect(rows).toHaveLength(1); // the login's state session was replaced (regenerated), not kept
    expect(rows[0]!.sid).toBe(digest(sid));
    expect(JSON.stringify(rows)).not.toContain(sid);
    // Cookie dates have a one-second resolution.
    expect(Math.abs(rows[0]!.expiresAt.getTime() - cookieExpires.getTime())).toBeLessThan(1000);
  });

  it('activity never extends a session, and a logged-in request writes no session row', async () => {
    const browser = t.h.browser();
    await t.h.login(browser, 'alice');
    const [before] = await t.db.prisma.session.findMany();
    t.db.counter.reset();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (let i = 0; i < 5; i++) {
      const page = await browser.request(`${t.h.appUrl}/whoami`);
      expect(JSON.parse(page.body)).toEqual({ email: 'alice@example.fr' });
      expect(page.setCookies).toEqual([]);
    }
    expect(t.db.counter.writes.filter((sql) => /sessions/.test(sql))).toEqual([]);
    expect(t.db.counter.statements.filter((sql) => /sessions/.test(sql))).toHaveLength(5); // one read per request
    const [after] = await t.db.prisma.session.findMany();
    expect(after!.expiresAt).toEqual(before!.expiresAt);
  });

  it('a login under way lives 15 minutes; anonymous pages and a callback without a code store nothing', async () => {
    expect((await t.h.browser().request(`${t.h.appUrl}/whoami`)).status).toBe(200);
    const callback = await t.h.browser().request(`${t.h.appUrl}/api/v1.0/callback/`, { headers: { accept: 'application/json' } });
    expect(callback.status).toBe(400);
    expect(JSON.parse(callback.body)).toEqual({ detail: 'Not an answer of the identity provider: start the login again' });
    expect(await t.db.prisma.session.count()).toBe(0);

    const started = Date.now();
    const redirect = await t.h.browser().request(`${t.h.appUrl}/api/v1.0/authenticate/`);
    expect(redirect.status).toBe(302);
    const cookieExpires = cookieExpiry(redirect.setCookies)!;
    expect(Math.abs(cookieExpires.getTime() - (started + 15 * 60 * 1000))).toBeLessThan(5000);
    const rows = await t.db.prisma.session.findMany();
    expect(rows).toHaveLength(1);
    expect(Math.abs(rows[0]!.expiresAt.getTime() - cookieExpires.getTime())).toBeLessThan(1000);
  });

  it('authenticate/ answers 503 at once, without sending the browser to the IdP, when the login state cannot be saved', async () => {
    t.db.counter.failWhen = (sql) => /sessions/.test(sql) && /^\s*(INSERT|UPDATE)/i.test(sql);
    const page = await t.h.browser().request(`${t.h.appUrl}/api/v1.0/authenticate/`, { headers: { accept: 'application/json' } });
    expect(page.status).toBe(503);
    expect(page.location).toBeNull();
    expect(JSON.parse(page.body)).toEqual({ detail: 'Sessions are unavailable: please try again later' });
    t.db.counter.failWhen = null;
    expect((await t.h.browser().request(`${t.h.appUrl}/api/v1.0/authenticate/`)).status).toBe(302);
  });

  it('an expired row is never served, and pruning deletes the expired rows only', async () => {
    const store = new DatabaseSessionStore(t.db.prisma, recordingLogger());
    const set = (sid: string, expires: Date) =>
      new Promise<void>((resolve, reject) =>
        store.set(sid, { cookie: { expires, originalMaxAge: 1000 } } as never, (error) => (error ? reject(error) : resolve())),
      );
    const get = (sid: string) => new Promise((resolve, reject) => store.get(sid, (error, session) => (error ? reject(error) : resolve(session))));
    await set('live', new Date(Date.now() + 60_000));
    await set('dead', new Date(Date.now() - 1000));
    expect(await get('live')).not.toBeNull();
    expect(await get('dead')).toBeNull();
    expect(await store.prune()).toBe(1);
    expect((await t.db.prisma.session.findMany()).map((row) => row.sid)).toEqual([digest('live')]);
    store.close();
  });
});
