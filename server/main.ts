import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { ConfigError, loadDotEnv, loadServerConfig, type Env, type ServerConfig } from '../src/config';
import { createPrismaClient, type AppPrismaClient } from './db';
import { applyMigrations } from '../src/db/migrations';
import { createLogger } from '../src/logging';
import { createOidcEntitlements } from '../src/index';
import { normalizeDomainName } from '../src/sync/domain-names';
import { createReferenceApp, DEV_DEPLOYCENTER_PATH, DEV_IDP_PATH, type DevelopmentParts } from './app';
import { ensureEntitlementsFile, readEntitlementsFile } from './dev-deploycenter';
import { createDevIdp, DEMO_ACCOUNTS } from '../src/development/idp';

/** The development entitlements, edited by hand while the server runs. */
const DEV_ENTITLEMENTS_FILE = 'data/dev-entitlements.json';
/** Demo domains seeded at start, besides those the file names. */
const DEMO_DOMAINS = ['alice.example.fr', 'shared.example.fr', 'bob.example.fr', 'team.example.fr'];
const DEV_CLIENT_ID = 'oidc-entitlements-dev';

interface Setup {
  config: ServerConfig;
  /** The development parts to start: the IdP's client secret, the DeployCenter stand-in's key. */
  dev: { idpClientSecret?: string; deployCenterKey?: string };
}

/**
 * In development (never in production): without OIDC_ISSUER, the embedded development IdP; without
 * ENTITLEMENTS_BACKEND, the embedded DeployCenter endpoint behind the real deploycenter backend — also
 * while trying a real IdP, so that data/dev-entitlements.json still drives the rows.
 */
function setUp(env: Env): Setup {
  const config = loadServerConfig(env);
  if (config.production) return { config, dev: {} };
  const origin = `http://localhost:${config.port}`;
  const overrides: Env = {};
  let idpClientSecret: string | undefined;
  if (!config.oidc.issuer) {
    idpClientSecret = randomBytes(24).toString('hex');
    Object.assign(overrides, {
      OIDC_ISSUER: `${origin}${DEV_IDP_PATH}`,
      OIDC_CLIENT_ID: DEV_CLIENT_ID,
      OIDC_CLIENT_SECRET: idpClientSecret,
      OIDC_ALLOW_INSECURE_HTTP: 'true',
    });
  }
  let deployCenterKey: string | undefined;
  if (!env.ENTITLEMENTS_BACKEND?.trim()) {
    deployCenterKey = randomBytes(24).toString('hex');
    Object.assign(overrides, {
      ENTITLEMENTS_BACKEND: 'deploycenter',
      ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({
        base_url: `${origin}${DEV_DEPLOYCENTER_PATH}/api/v1.0/entitlements/`,
        service_id: 'development',
        timeout: 5,
        oidc_claims: ['siret'],
      }),
      ENTITLEMENTS_API_KEY: deployCenterKey,
      ENTITLEMENTS_API_KEY_FILE: '',
    });
  }
  return { config: loadServerConfig({ ...env, ...overrides }), dev: { idpClientSecret, deployCenterKey } };
}

async function seedDemoDomains(prisma: AppPrismaClient): Promise<string[]> {
  const file = readEntitlementsFile(DEV_ENTITLEMENTS_FILE);
  const named = Object.values(file.users).flatMap((entry) => (Array.isArray(entry.can_admin_maildomains) ? entry.can_admin_maildomains : []));
  const names = [...new Set([...DEMO_DOMAINS, ...named].filter((n): n is string => typeof n === 'string').map(normalizeDomainName))].filter(
    (n): n is string => n !== null,
  );
  const existing = new Set((await prisma.mailDomain.findMany({ where: { name: { in: names } }, select: { name: true } })).map((d) => d.name));
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length > 0) await prisma.mailDomain.createMany({ data: missing.map((name) => ({ name })) });
  return names;
}

async function listen(app: express.Express, port: number, host: string): Promise<Server> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}

async function main(): Promise<void> {
  let setup: Setup;
  try {
    loadDotEnv();
    setup = setUp(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const { config, dev } = setup;
  const logger = createLogger();
  for (const warning of config.warnings) logger.warn(warning);

  if (config.migrateOnStart) {
    const applied = await applyMigrations(config.databaseUrl);
    if (applied.length > 0) logger.info({ applied }, 'database migrations applied');
  }
  const prisma = createPrismaClient(config.databaseUrl);

  const development: DevelopmentParts = {};
  let demoDomains: string[] = [];
  if (dev.idpClientSecret) {
    const postLogout = new URL(config.oidc.logoutRedirectUrl, config.oidc.redirectUri).href;
    development.idp = {
      accounts: DEMO_ACCOUNTS,
      provider: await createDevIdp({
        issuer: config.oidc.issuer!,
        clients: [
          { client_id: DEV_CLIENT_ID, client_secret: dev.idpClientSecret, redirect_uris: [config.oidc.redirectUri], post_logout_redirect_uris: [postLogout] },
        ],
        accounts: DEMO_ACCOUNTS,
      }),
    };
  }
  if (dev.deployCenterKey) {
    ensureEntitlementsFile(DEV_ENTITLEMENTS_FILE);
    development.deployCenter = { file: DEV_ENTITLEMENTS_FILE, apiKey: dev.deployCenterKey };
    demoDomains = await seedDemoDomains(prisma);
  }

  const lib = createOidcEntitlements({ prisma, config, logger });
  const app = createReferenceApp({ lib, config, prisma, logger, development, serveMetrics: config.metricsPort === undefined });
  const server = await listen(app, config.port, config.host);
  let metricsServer: Server | undefined;
  if (config.metricsPort !== undefined) {
    const metricsApp = express();
    metricsApp.get('/metrics', lib.metricsHandler({ dedicatedPort: true }));
    metricsServer = await listen(metricsApp, config.metricsPort, config.host);
  }

  const url = `http://localhost:${config.port}/`;
  const lines = [`oidc-entitlements reference server: ${url} (listening on ${config.host}:${config.port})`];
  if (development.idp) {
    lines.push(`  development IdP at ${config.oidc.issuer}: log in as ${DEMO_ACCOUNTS.map((a) => `${a.id} (${a.email})`).join(', ')} with any password`);
  }
  if (development.deployCenter) {
    lines.push(`  entitlements from ${DEV_ENTITLEMENTS_FILE} (edit it, log in again); demo domains: ${demoDomains.join(', ')}`);
    if (!development.idp) lines.push(`  (the IdP is ${config.oidc.issuer}; set ENTITLEMENTS_BACKEND to use a real entitlements service)`);
  }
  lines.push(`  metrics: ${config.metricsPort === undefined ? `${url}metrics` : `http://localhost:${config.metricsPort}/metrics`}`);
  lines.push(`  see the rows: npm run studio  (Prisma Studio on ${config.databaseUrl.startsWith('file:') ? config.databaseUrl : 'the PostgreSQL database'})`);
  console.log(lines.join('\n'));

  const stop = () => {
    for (const open of [server, metricsServer]) {
      open?.close();
      open?.closeAllConnections();
    }
    void lib.close().then(() => prisma.$disconnect());
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`oidc-entitlements: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  process.exit(1);
});
