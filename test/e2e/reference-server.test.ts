import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { Browser, loginAt } from '../support/browser';
import { freePort } from '../support/net';
import { startReferenceServer, type ReferenceServer } from '../support/reference-server';
import { createDevIdp, DEMO_ACCOUNTS, idpRequestListener } from '../../src/development/idp';

/** Logs in through the embedded development IdP's forms; returns the home page. */
const login = (server: ReferenceServer, browser: Browser, account: string) => loginAt(browser, server.url, account);

describe('the reference server on the embedded default (npm start)', () => {
  let server: ReferenceServer;
  beforeAll(async () => {
    server = await startReferenceServer();
  });
  afterAll(() => server.stop());

  it('prints the URL, the demo logins and the studio command', () => {
    expect(server.output()).toContain(`reference server: ${server.url}/`);
    expect(server.output()).toMatch(/log in as alice \(alice@example\.fr\)/);
    expect(server.output()).toContain('npm run studio');
  });

  it('logs a demo user in, shows their domains, follows edits of the entitlements file, logs out', async () => {
    const browser = new Browser();
    const home = await login(server, browser, 'alice');
    expect(home.status).toBe(200);
    expect(home.body).toContain('Alice Martin');
    expect(home.body).toMatch(/alice\.example\.fr<\/td><td>ADMIN<\/td><td>ENTITLEMENTS/);
    expect(home.body).toContain('shared.example.fr');

    const file = join(server.dir, 'data', 'dev-entitlements.json');
    const entitlements = JSON.parse(readFileSync(file, 'utf8'));
    entitlements.users['alice@example.fr'].can_admin_maildomains = ['team.example.fr'];
    writeFileSync(file, JSON.stringify(entitlements));
    const again = await login(server, new Browser(), 'alice');
    expect(again.body).toContain('team.example.fr');
    expect(again.body).not.toContain('alice.example.fr');

    const logout = await browser.request(`${server.url}/api/v1.0/logout/`, { method: 'POST' });
    expect(logout.location).toContain('/dev-idp/session/end');
    expect((await browser.visit(`${server.url}/`)).body).toContain('You are not logged in');
  });

  it('listens on 127.0.0.1 only in development (HOST): the development IdP is not on the network', async () => {
    const port = new URL(server.url).port;
    expect(server.output()).toContain(`listening on 127.0.0.1:${port}`);
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (outside) {
      const error = await fetch(`http://${outside.address}:${port}/`).then(
        () => null,
        (failure: Error & { cause?: { code?: string } }) => failure.cause?.code,
      );
      expect(error).toBe('ECONNREFUSED');
    }
  });

  it('puts the security headers on its pages, the library routes and its 404s', async () => {
    for (const path of ['/', '/api/v1.0/config/', '/nope']) {
      const page = await new Browser().request(`${server.url}${path}`);
      expect({ path, nosniff: page.headers.get('x-content-type-options') }).toEqual({ path, nosniff: 'nosniff' });
      expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors/);
      expect(page.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    }
  });

  it('answers unknown paths with a JSON 404 for API clients', async () => {
    const page = await new Browser('application/json').request(`${server.url}/nope`);
    expect(page.status).toBe(404);
    expect(JSON.parse(page.body)).toEqual({ detail: 'Not found' });
  });
});

describe('the reference server with METRICS_PORT', () => {
  it('serves /metrics on that port only', async () => {
    const metricsPort = await freePort();
    const server = await startReferenceServer({ METRICS_PORT: String(metricsPort) });
    try {
      const metrics = await new Browser('text/plain').request(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('# TYPE oidc_entitlements_syncs_total counter');
      expect((await new Browser('application/json').request(`${server.url}/metrics`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});

describe('the reference server with a bad configuration', () => {
  it('stops at start with one line naming the variable', async () => {
    await expect(startReferenceServer({ ENTITLEMENTS_CACHE_TIMEOUT: 'soon' })).rejects.toThrow(
      /exited \(1\):\nconfiguration error: ENTITLEMENTS_CACHE_TIMEOUT: must be a whole number from 0 to \d+ \(got "soon"\)\n$/,
    );
  });
});

describe('the reference server in development with a real IdP (OIDC_ISSUER set, ENTITLEMENTS_BACKEND unset)', () => {
  let server: ReferenceServer;
  let idp: Server;

  beforeAll(async () => {
    const port = await freePort();
    idp = createServer();
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const provider = await createDevIdp({
      issuer,
      clients: [
        {
          client_id: 'app',
          client_secret: 'app-secret',
          redirect_uris: [`http://localhost:${port}/api/v1.0/callback/`],
          post_logout_redirect_uris: [`http://localhost:${port}/`],
        },
      ],
      accounts: DEMO_ACCOUNTS,
    });
    idp.on('request', idpRequestListener(provider));
    server = await startReferenceServer(
      { OIDC_ISSUER: issuer, OIDC_CLIENT_ID: 'app', OIDC_CLIENT_SECRET: 'app-secret', OIDC_ALLOW_INSECURE_HTTP: 'true' },
      port,
    );
  });
  afterAll(async () => {
    await server.stop();
    idp.closeAllConnections();
    await new Promise((resolve) => idp.close(resolve));
  });

  it('keeps the embedded DeployCenter stand-in, says so, and the entitlements file still drives the rows', async () => {
    expect(server.output()).not.toContain('development IdP at');
    expect(server.output()).toContain('entitlements from data/dev-entitlements.json');
    const home = await loginAt(new Browser(), server.url, 'alice');
    expect(home.status).toBe(200);
    expect(home.body).toMatch(/alice\.example\.fr<\/td><td>ADMIN<\/td><td>ENTITLEMENTS/);
  });
});
