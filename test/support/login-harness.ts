import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { loadConfig, type Env } from '../../src/config';
import { createOidcEntitlements, type OidcEntitlements, type OidcEntitlementsOptions } from '../../src/oidc-entitlements';
import { createDevIdp, DEMO_ACCOUNTS, idpRequestListener, type DemoAccount } from '../../src/development/idp';
import { authorizeAt, Browser, loginAt, type Page } from './browser';
import type { DatabaseProvider } from '../../src/db/provider';
import { createTestDatabase, type TestDatabase } from './databases';
import { DeployCenterStandIn } from './deploycenter-server';
import { recordingLogger } from './fixtures';

export const CLIENT = { client_id: 'test-app', client_secret: 'test-app-secret' };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface LoginHarness {
  appUrl: string;
  idpUrl: string;
  dc: DeployCenterStandIn;
  lib: OidcEntitlements;
  logger: ReturnType<typeof recordingLogger>;
  /** A fresh browser. */
  browser(): Browser;
  /** Logs `accountId` in through the IdP's real forms; returns the page the app redirected to. */
  login(browser: Browser, accountId: string): Promise<Page>;
  /** Everything up to the IdP's redirect to the callback: returns the callback URL, not yet visited. */
  authorize(browser: Browser, accountId: string): Promise<string>;
  /** Who the app thinks is logged in with this browser (`null`: anonymous). */
  whoami(browser: Browser): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * The login on real parts, all on 127.0.0.1: oidc-provider as the IdP, a DeployCenter stand-in, and an
 * Express 5 app mounting the library on the test database.
 */
export interface HarnessOptions {
  accounts?: DemoAccount[];
  syncOnLogin?: boolean;
  /** How the app mounts the library (default: `session`, then both routers at /api/v1.0). */
  mount?: (app: Express, lib: OidcEntitlements) => void | Promise<void>;
  /** More options of createOidcEntitlements. */
  libOptions?: Partial<OidcEntitlementsOptions>;
  /** An IdP configured the strict way real servers are (see DevIdpOptions.strict). */
  strictIdp?: boolean;
}

export async function startLoginHarness(
  db: TestDatabase,
  env: Env = {},
  {
    accounts = DEMO_ACCOUNTS,
    syncOnLogin,
    libOptions = {},
    strictIdp = false,
    mount = (app, lib) => {
      app.use(lib.session);
      app.use('/api/v1.0', lib.authRouter, lib.apiRouter);
    },
  }: HarnessOptions = {},
): Promise<LoginHarness> {
  const dc = await new DeployCenterStandIn().start();
  const appServer = createServer();
  const idpServer = createServer();
  const appUrl = await listen(appServer);
  const idpUrl = await listen(idpServer);
  const redirectUri = `${appUrl}/api/v1.0/callback/`;
  const provider = await createDevIdp({
    issuer: idpUrl,
    clients: [{ ...CLIENT, redirect_uris: [redirectUri], post_logout_redirect_uris: [`${appUrl}/`] }],
    accounts,
    strict: strictIdp,
  });
  idpServer.on('request', idpRequestListener(provider));

  const config = loadConfig({
    DATABASE_URL: db.url,
    OIDC_ISSUER: idpUrl,
    OIDC_CLIENT_ID: CLIENT.client_id,
    OIDC_CLIENT_SECRET: CLIENT.client_secret,
    OIDC_ALLOW_INSECURE_HTTP: 'true',
    OIDC_REDIRECT_URI: redirectUri,
    ENTITLEMENTS_BACKEND: 'deploycenter',
    ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: dc.url, service_id: 'messages', timeout: 1, oidc_claims: ['siret'] }),
    ENTITLEMENTS_API_KEY: 'dc-key',
    // Suites log in far more often than a person does, all from 127.0.0.1; the limits' own tests lower it.
    RATE_LIMIT_PER_MINUTE: '100000',
    ...env,
  });
  const logger = recordingLogger();
  const lib = createOidcEntitlements({ prisma: db.prisma, config, logger, syncOnLogin, ...libOptions });
  const app = express();
  app.get('/metrics', lib.metricsHandler());
  await mount(app, lib);
  app.get('/whoami', (req, res) => {
    res.json({ email: req.user?.email ?? null });
  });
  app.get('/gated', lib.requireEntitlement(), (req, res) => {
    res.json({ email: req.user?.email ?? null });
  });
  app.get('/', (_req, res) => {
    res.send('home');
  });
  appServer.on('request', app);

  const authorize = (browser: Browser, accountId: string) => authorizeAt(browser, appUrl, accountId);
  const login = (browser: Browser, accountId: string) => loginAt(browser, appUrl, accountId);

  return {
    appUrl,
    idpUrl,
    dc,
    lib,
    logger,
    browser: () => new Browser(),
    login,
    authorize,
    whoami: async (browser) => JSON.parse((await browser.request(`${appUrl}/whoami`)).body).email,
    close: async () => {
      await lib.close();
      await close(appServer);
      await close(idpServer);
      await dc.stop();
    },
  };
}

/**
 * A test file's database (of `provider`) and login harness: made before its tests, emptied (rows,
 * DeployCenter answers and recorded requests) before each, closed and dropped after them all.
 */
export function useLoginHarness(
  provider: DatabaseProvider,
  env: Env = {},
  options: HarnessOptions | ((db: TestDatabase) => HarnessOptions) = {},
): { db: TestDatabase; h: LoginHarness } {
  const context = {} as { db: TestDatabase; h: LoginHarness };
  beforeAll(async () => {
    context.db = await createTestDatabase(provider);
    context.h = await startLoginHarness(context.db, env, typeof options === 'function' ? options(context.db) : options);
  });
  afterAll(async () => {
    await context.h.close();
    await context.db.drop();
  });
  beforeEach(async () => {
    await context.db.truncate();
    context.h.dc.reset();
  });
  return context;
}
