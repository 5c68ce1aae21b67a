import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import type { AppPrismaClient } from '../../server/db';
import { loginAt, Browser } from '../support/browser';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { DeployCenterStandIn } from '../support/deploycenter-server';
import { freePort } from '../support/net';
import { startProcess, type RunningProcess } from '../support/process';

/*
 * The package as a host app gets it: `npm pack`, the tarball installed into an empty directory and
 * into the example app of examples/express-app (never a path into src/), its tables created with the
 * package's own command, the app started, and a person logging in through oidc-provider (started by
 * the package's `dev-idp` command) while a DeployCenter stand-in answers.
 */

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'express-app');
const run = promisify(execFile);
const INSTALL_TIMEOUT = 10 * 60_000;
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline'];

let work: string;
let tarball: string;

async function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: { ...process.env, ...env }, timeout: INSTALL_TIMEOUT, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'oidc-ent-package-'));
  // `npm pack` runs `prepare` (the build) first, as it would before a publish.
  await npm(['pack', '--pack-destination', work], ROOT);
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  tarball = join(work, `${name}-${version}.tgz`);
}, INSTALL_TIMEOUT);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds the compiled library, its types, models, migrations and licence, and nothing of the repository', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout
      .trim()
      .split('\n')
      .map((file) => file.replace(/^package\//, ''));
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.mjs',
        'dist/index.cjs',
        'dist/index.d.mts',
        'dist/index.d.ts',
        'dist/cli.mjs',
        'prisma/models.prisma',
        'LICENSE',
        'README.md',
        'package.json',
      ]),
    );
    expect(files.filter((file) => file.startsWith('prisma/sqlite/migrations/')).length).toBeGreaterThan(1);
    expect(files.filter((file) => file.startsWith('prisma/postgresql/migrations/')).length).toBeGreaterThan(1);
    expect(
      files.filter(
        (file) =>
          /^(src|server|tools|test|bench|examples|generated)\//.test(file) || (file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.d.mts')),
      ),
    ).toEqual([]);
  });
});

describe('installed into an empty directory beside express, passport and @prisma/client', () => {
  let host: string;
  beforeAll(async () => {
    host = join(work, 'host');
    cpSync(join(__dirname, 'host'), host, { recursive: true });
    await npm(['install', ...NPM_FLAGS, 'express@5.1.0', 'passport@0.7.0', '@prisma/client@7.10.0', tarball], host);
  }, INSTALL_TIMEOUT);

  /** Every installed package's manifest, nested node_modules included. */
  const manifests = (dir = join(host, 'node_modules')): { name: string; version: string; engines?: { node?: string } }[] =>
    readdirSync(dir)
      .filter((name) => !name.startsWith('.'))
      .flatMap((name) => (name.startsWith('@') ? readdirSync(join(dir, name)).map((sub) => join(dir, name, sub)) : [join(dir, name)]))
      .flatMap((path) => {
        const nested = join(path, 'node_modules');
        return [JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')), ...(existsSync(nested) ? manifests(nested) : [])];
      });
  const installed = () => manifests().map((manifest) => manifest.name);

  it('brings none of the reference server, development IdP or tooling packages, and no second express', () => {
    const names = installed();
    for (const name of ['tsx', 'oidc-provider', 'cli-progress', 'prisma', 'tsup', 'redis', 'better-sqlite3', 'pg', 'dotenv'])
      expect({ name, installed: names.includes(name) }).toEqual({ name, installed: false });
    expect(readdirSync(join(host, 'node_modules', 'oidc-entitlements'))).not.toContain('node_modules');
    expect(JSON.parse(readFileSync(join(host, 'node_modules', 'express', 'package.json'), 'utf8')).version).toBe('5.1.0');
  });

  it('needs no newer Node.js than its own engines say, down to every dependency', () => {
    const floor = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const minimum = semver.minVersion(floor)!.version;
    const tooNew = manifests()
      .filter((manifest) => manifest.engines?.node && !semver.satisfies(minimum, manifest.engines.node))
      .map((manifest) => `${manifest.name} wants node ${manifest.engines!.node}`);
    expect(tooNew).toEqual([]);
  });

  it('imports as an ES module and requires as CommonJS, with the same public names', async () => {
    const esm = await run(process.execPath, ['esm.mjs'], { cwd: host });
    const cjs = await run(process.execPath, ['cjs.cjs'], { cwd: host });
    expect(JSON.parse(esm.stdout)).toEqual(JSON.parse(cjs.stdout));
    expect(JSON.parse(esm.stdout)).toEqual({
      exports: [
        'ConfigError',
        'DeployCenterEntitlementsBackend',
        'EntitlementsUnavailableError',
        'LocalEntitlementsBackend',
        'LoginRefusedError',
        'OidcEntitlementsError',
        'OidcLoginStrategy',
        'createOidcEntitlements',
        'loadConfig',
      ],
      errorCode: 'ERR_ENTITLEMENTS_UNAVAILABLE',
      derivesFromBase: true,
      routers: ['apiRouter', 'authRouter'],
    });
  });

  it('has a command that lists what it does', async () => {
    const { stdout } = await run(join(host, 'node_modules', '.bin', 'oidc-entitlements'), ['--help'], { cwd: host });
    for (const command of ['models', 'migrate', 'resync', 'dev-idp']) expect(stdout).toContain(`  ${command}`);
  });

  it('says what to install when the development IdP is asked for without oidc-provider', async () => {
    const failure = await run(
      join(host, 'node_modules', '.bin', 'oidc-entitlements'),
      ['dev-idp', '--client-id', 'a', '--client-secret', 'b', '--redirect-uri', 'http://localhost/cb'],
      { cwd: host },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('npm install --save-dev oidc-provider@9') });
  });
});

describe('the example host app (examples/express-app) on the tarball', () => {
  let app: string;
  beforeAll(async () => {
    app = join(work, 'express-app');
    cpSync(EXAMPLE, app, {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|dist|data|generated)$/.test(source) && !source.endsWith('oidc-entitlements.prisma'),
    });
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies['oidc-entitlements'] = `file:${tarball}`;
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    await npm(['install', ...NPM_FLAGS], app);
    // `prisma generate` insists on finding Prisma's native schema engine, which it never runs and these machines cannot download.
    await npm(['run', 'setup'], app, { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' });
    await npm(['run', 'build'], app); // tsc, strict, against the published declarations (skipLibCheck off)
  }, INSTALL_TIMEOUT);

  it('wrote the package models into both schema folders', () => {
    const models = readFileSync(join(ROOT, 'prisma', 'models.prisma'), 'utf8');
    for (const provider of ['sqlite', 'postgresql']) expect(readFileSync(join(app, 'prisma', provider, 'oidc-entitlements.prisma'), 'utf8')).toBe(models);
  });

  describe.each(PROVIDERS_UNDER_TEST)('on %s', (provider) => {
    let db: TestDatabase;
    let prisma: AppPrismaClient;
    const dc = new DeployCenterStandIn();
    const processes: RunningProcess[] = [];
    let appUrl: string;

    beforeAll(async () => {
      db = await createTestDatabase(provider, { migrate: false });
      prisma = db.prisma;
      await dc.start();
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url };
      const migrated = await run(join(app, 'node_modules', '.bin', 'oidc-entitlements'), ['migrate'], { cwd: app, env });
      expect(migrated.stdout).toMatch(/applied \d+_init/);
      await prisma.mailDomain.createMany({ data: ['alice.example.fr', 'shared.example.fr', 'team.example.fr'].map((name) => ({ name })) });

      const [appPort, idpPort] = [await freePort(), await freePort()];
      appUrl = `http://127.0.0.1:${appPort}`;
      const client = { id: 'example-app', secret: 'example-app-secret-of-32-characters!' };
      processes.push(
        await startProcess(
          join(app, 'node_modules', '.bin', 'oidc-entitlements'),
          ['dev-idp', '--port', String(idpPort), '--client-id', client.id, '--client-secret', client.secret, '--redirect-uri', `${appUrl}/api/v1.0/callback/`],
          { cwd: app, env, ready: /development IdP/ },
        ),
      );
      processes.push(
        await startProcess(process.execPath, ['dist/app.js'], {
          cwd: app,
          ready: /example app on http/,
          env: {
            ...env,
            PORT: String(appPort),
            HOST: '127.0.0.1',
            LOG_LEVEL: 'warn',
            OIDC_ISSUER: `http://127.0.0.1:${idpPort}`,
            OIDC_ALLOW_INSECURE_HTTP: 'true',
            OIDC_CLIENT_ID: client.id,
            OIDC_CLIENT_SECRET: client.secret,
            OIDC_REDIRECT_URI: `${appUrl}/api/v1.0/callback/`,
            ENTITLEMENTS_BACKEND: 'deploycenter',
            ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: dc.url, service_id: 'example', timeout: 5 }),
            ENTITLEMENTS_API_KEY: 'dc-key',
          },
        }),
      );
    }, 120_000);

    afterAll(async () => {
      for (const child of processes) await child.stop();
      await dc.stop();
      await db.drop();
    });

    const adminRows = async (email: string) =>
      (
        await prisma.mailDomainAccess.findMany({
          where: { user: { email }, role: 'ADMIN' },
          include: { maildomain: true },
          orderBy: { maildomain: { name: 'asc' } },
        })
      ).map((row) => ({ domain: row.maildomain.name, source: row.source }));

    it('logs a person in, syncs the ADMIN rows from DeployCenter, and serves its own guarded route', async () => {
      dc.entitlementsByEmail.set('alice@example.fr', {
        can_access: true,
        can_admin_maildomains: ['alice.example.fr', 'Shared.Example.FR.', 'unknown.example.fr'],
      });
      const browser = new Browser('application/json');
      const landing = await loginAt(browser, appUrl, 'alice');
      expect(landing.status).toBe(200);
      expect(await adminRows('alice@example.fr')).toEqual([
        { domain: 'alice.example.fr', source: 'ENTITLEMENTS' },
        { domain: 'shared.example.fr', source: 'ENTITLEMENTS' },
      ]);
      const domains = await browser.visit(`${appUrl}/domains/`);
      expect(JSON.parse(domains.body)).toEqual({ email: 'alice@example.fr', domains: ['alice.example.fr', 'shared.example.fr'] });
      expect(dc.requests.at(-1)?.headers['x-service-auth']).toBe('Bearer dc-key');
    });

    it('follows a change of the entitlements at the next login (grants and revocations)', async () => {
      dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: ['team.example.fr'] });
      await loginAt(new Browser('application/json'), appUrl, 'alice');
      expect(await adminRows('alice@example.fr')).toEqual([{ domain: 'team.example.fr', source: 'ENTITLEMENTS' }]);
      const events = await prisma.accessEvent.findMany({ where: { domainName: { in: ['alice.example.fr', 'shared.example.fr', 'team.example.fr'] } } });
      expect(events.map((event) => `${event.action} ${event.domainName}`).sort()).toEqual([
        'GRANTED alice.example.fr',
        'GRANTED shared.example.fr',
        'GRANTED team.example.fr',
        'REVOKED alice.example.fr',
        'REVOKED shared.example.fr',
      ]);
    });

    it('refuses the guarded route to a user the entitlements deny, and to anonymous requests', async () => {
      dc.entitlementsByEmail.set('bob@example.fr', { can_access: false, can_admin_maildomains: [] });
      const bob = new Browser('application/json');
      await loginAt(bob, appUrl, 'bob');
      const refused = await bob.visit(`${appUrl}/domains/`);
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toEqual({ detail: 'Access denied by entitlements policy' });
      expect((await new Browser('application/json').visit(`${appUrl}/domains/`)).status).toBe(401);
    });
  });
});
