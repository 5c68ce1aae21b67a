import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadServerConfig, type Env } from '../../src/config';
import { OidcEntitlementsError } from '../../src/errors';

const DEPLOYCENTER: Env = {
  ENTITLEMENTS_BACKEND: 'deploycenter',
  ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: 'https://dc.example/api/v1.0/entitlements/', service_id: 42 }),
  ENTITLEMENTS_API_KEY: 'top-secret-key',
};

/** The reference server reads the library's variables and its own: a failure of either shows here. */
const PRODUCTION: Env = { NODE_ENV: 'production', OIDC_ISSUER: 'https://idp.example/', OIDC_CLIENT_ID: 'c', SESSION_SECRET: 's'.repeat(32) };

function failure(env: Env): ConfigError {
  try {
    loadServerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the configuration');
}

describe('loadConfig', () => {
  it('applies the defaults of docs/specification.md §3', () => {
    const config = loadServerConfig({});
    expect(config).toMatchObject({
      production: false,
      sessionCookieAge: 43200,
      sessionStore: 'database',
      port: 3000,
      databaseUrl: 'file:./data/dev.db',
      migrateOnStart: true,
      redisUrl: undefined,
      oidc: {
        issuer: undefined,
        redirectUri: 'http://localhost:3000/api/v1.0/callback/',
        scopes: ['openid', 'email', 'profile'],
        allowInsecureHttp: false,
        useNonce: true,
        tokenEndpointAuthMethod: undefined,
        essentialClaims: [],
        fallbackToEmailForIdentification: true,
        allowDuplicateEmails: false,
        createUser: true,
        loginRedirectUrl: '/',
        logoutRedirectUrl: '/',
      },
      entitlements: {
        backend: 'local',
        parameters: {},
        cache: { timeout: 300, staleTimeout: 86400, prefix: 'oidc-entitlements', maxKeys: 100000 },
        sync: { onUnavailable: 'keep', preserveManual: false, maxRevocations: 0, dryRun: false },
      },
      provisioningApiKey: undefined,
      resyncApiKey: undefined,
      metricsPort: undefined,
      metricsApiKey: undefined,
      features: { maildomainCreate: true, maildomainManageAccesses: true },
      host: '127.0.0.1',
      trustProxy: false,
      csrfTrustedOrigins: ['http://localhost:3000'],
      rateLimitPerMinute: 60,
      provisioningMaxDomains: 1000,
    });
    expect(config.sessionSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(loadConfig({}).sessionSecret).not.toBe(config.sessionSecret);
  });

  it('reads the hardening settings (docs/specification.md §3)', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(loadConfig({ OIDC_REDIRECT_URI: 'https://app.example.fr/api/v1.0/callback/' }).csrfTrustedOrigins).toEqual(['https://app.example.fr']);
    expect(loadConfig({ CSRF_TRUSTED_ORIGINS: 'https://a.example.fr/, https://b.example.fr:8443' }).csrfTrustedOrigins).toEqual([
      'https://a.example.fr',
      'https://b.example.fr:8443',
    ]);
    expect(loadServerConfig({ ...PRODUCTION }).host).toBe('0.0.0.0');
    expect(loadServerConfig({ HOST: '::1' }).host).toBe('::1');
    expect(loadConfig({ ...PRODUCTION, PROVISIONING_API_KEY: 'k'.repeat(32) }).provisioningApiKey).toHaveLength(32);
  });

  it('reads the DeployCenter parameters with the Django keys', () => {
    const config = loadConfig({
      ...DEPLOYCENTER,
      ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: 'https://dc.example/e/', service_id: 'svc', timeout: 2.5, oidc_claims: ['siret'] }),
    });
    expect(config.entitlements.deployCenter).toEqual({ base_url: 'https://dc.example/e/', service_id: 'svc', timeout: 2.5, oidc_claims: ['siret'] });
    expect(config.entitlements.apiKey).toBe('top-secret-key');
  });

  it('accepts an api_key inside the parameters, with a warning that does not show it', () => {
    const config = loadConfig({
      ENTITLEMENTS_BACKEND: 'deploycenter',
      ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: 'https://dc.example/e/', service_id: 1, api_key: 'legacy-secret' }),
    });
    expect(config.entitlements.apiKey).toBe('legacy-secret');
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings.join()).not.toContain('legacy-secret');
  });

  it('reads secrets from *_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'dc'), 'file-secret\n');
    writeFileSync(join(dir, 'prov'), 'prov-secret');
    const config = loadConfig({
      ...DEPLOYCENTER,
      ENTITLEMENTS_API_KEY: undefined,
      ENTITLEMENTS_API_KEY_FILE: join(dir, 'dc'),
      PROVISIONING_API_KEY_FILE: join(dir, 'prov'),
    });
    expect(config.entitlements.apiKey).toBe('file-secret');
    expect(config.provisioningApiKey).toBe('prov-secret');
    expect(config.resyncApiKey).toBe('prov-secret');
    expect(loadConfig({ PROVISIONING_API_KEY: 'p', RESYNC_API_KEY: 'r' }).resyncApiKey).toBe('r');
  });

  it.each<[string, Env, string]>([
    ['bad JSON', { ENTITLEMENTS_BACKEND_PARAMETERS: '{nope' }, 'ENTITLEMENTS_BACKEND_PARAMETERS: is not valid JSON'],
    ['JSON that is not an object', { ENTITLEMENTS_BACKEND_PARAMETERS: '[1]' }, 'ENTITLEMENTS_BACKEND_PARAMETERS: must be a JSON object'],
    ['an unknown backend', { ENTITLEMENTS_BACKEND: 'nope' }, 'ENTITLEMENTS_BACKEND: unknown backend "nope"'],
    [
      'a missing base_url',
      { ...DEPLOYCENTER, ENTITLEMENTS_BACKEND_PARAMETERS: '{"service_id": 1}' },
      'ENTITLEMENTS_BACKEND_PARAMETERS: the deploycenter backend needs "base_url"',
    ],
    [
      'a missing service_id',
      { ...DEPLOYCENTER, ENTITLEMENTS_BACKEND_PARAMETERS: '{"base_url": "https://x.fr/"}' },
      'ENTITLEMENTS_BACKEND_PARAMETERS: the deploycenter backend needs "service_id"',
    ],
    [
      'a bad timeout',
      { ...DEPLOYCENTER, ENTITLEMENTS_BACKEND_PARAMETERS: '{"base_url": "https://x.fr/", "service_id": 1, "timeout": -1}' },
      'ENTITLEMENTS_BACKEND_PARAMETERS: timeout must be above 0',
    ],
    ['a missing API key', { ...DEPLOYCENTER, ENTITLEMENTS_API_KEY: undefined }, 'ENTITLEMENTS_API_KEY: is required by the deploycenter backend'],
    ['both email flags true', { OIDC_ALLOW_DUPLICATE_EMAILS: 'true' }, 'OIDC_ALLOW_DUPLICATE_EMAILS: cannot be true'],
    ['a bad boolean', { DB_MIGRATE_ON_START: 'maybe' }, 'DB_MIGRATE_ON_START: must be true or false (got "maybe")'],
    ['a bad port', { PORT: '70000' }, 'PORT: must be a whole number from 1 to 65535'],
    ['a negative cache timeout', { ENTITLEMENTS_CACHE_TIMEOUT: '-5' }, 'ENTITLEMENTS_CACHE_TIMEOUT: must be a whole number'],
    [
      'a stale window below the fresh one',
      { ENTITLEMENTS_CACHE_TIMEOUT: '600', ENTITLEMENTS_CACHE_STALE_TIMEOUT: '60' },
      'ENTITLEMENTS_CACHE_STALE_TIMEOUT: must not be below',
    ],
    ['an unknown unavailable policy', { ENTITLEMENTS_SYNC_ON_UNAVAILABLE: 'retry' }, 'ENTITLEMENTS_SYNC_ON_UNAVAILABLE: must be one of keep, deny'],
    ['a non-Redis REDIS_URL', { REDIS_URL: 'http://x' }, 'REDIS_URL: must be a redis:// or rediss:// URL'],
    [
      'an unknown auth method',
      { OIDC_TOKEN_ENDPOINT_AUTH_METHOD: 'private_key_jwt' },
      'OIDC_TOKEN_ENDPOINT_AUTH_METHOD: must be one of client_secret_basic, client_secret_post',
    ],
    ['Redis sessions without Redis', { SESSION_STORE: 'redis' }, 'SESSION_STORE: is redis but REDIS_URL is not set'],
    ['an unknown session store', { SESSION_STORE: 'memcached' }, 'SESSION_STORE: must be one of database, redis'],
    ['a session age under a minute', { SESSION_COOKIE_AGE: '5' }, 'SESSION_COOKIE_AGE: must be a whole number from 60'],
    ['an unsupported database', { DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL: must be a SQLite file'],
    ['an http issuer without the opt-in', { OIDC_ISSUER: 'http://idp.local/', OIDC_CLIENT_ID: 'c' }, 'OIDC_ISSUER: is an http:// URL'],
    ['an issuer without a client id', { OIDC_ISSUER: 'https://idp.example/' }, 'OIDC_CLIENT_ID: is required when OIDC_ISSUER is set'],
    [
      'no session secret in production',
      { NODE_ENV: 'production', OIDC_ISSUER: 'https://idp.example/', OIDC_CLIENT_ID: 'c' },
      'SESSION_SECRET: is required when NODE_ENV=production',
    ],
    ['no issuer in production', { NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(32) }, 'OIDC_ISSUER: is required when NODE_ENV=production'],
    ...(['SESSION_SECRET', 'PROVISIONING_API_KEY', 'RESYNC_API_KEY', 'METRICS_API_KEY'] as const).map(
      (name) =>
        [`a ${name} under 32 characters in production`, { ...PRODUCTION, [name]: 'k'.repeat(31) }, `${name}: is shorter than 32 characters`] as [
          string,
          Env,
          string,
        ],
    ),
    ['a bad TRUST_PROXY', { TRUST_PROXY: 'sometimes, 10.0.0.0/99' }, 'TRUST_PROXY: must be true, false, a hop count'],
    [
      'a CSRF origin with a path',
      { CSRF_TRUSTED_ORIGINS: 'https://app.example.fr/admin' },
      'CSRF_TRUSTED_ORIGINS: "https://app.example.fr/admin" is not an origin',
    ],
    ['a CSRF origin that is no URL', { CSRF_TRUSTED_ORIGINS: 'app.example.fr' }, 'CSRF_TRUSTED_ORIGINS: "app.example.fr" is not an origin'],
    ['a zero provisioning bound', { PROVISIONING_MAX_DOMAINS: '0' }, 'PROVISIONING_MAX_DOMAINS: must be a whole number from 1'],
    [
      'a secret and its file',
      { PROVISIONING_API_KEY: 'a', PROVISIONING_API_KEY_FILE: '/x' },
      'PROVISIONING_API_KEY: set PROVISIONING_API_KEY or PROVISIONING_API_KEY_FILE, not both',
    ],
    ['an unreadable secret file', { PROVISIONING_API_KEY_FILE: '/nonexistent/key' }, 'PROVISIONING_API_KEY_FILE: cannot read the file (ENOENT)'],
  ])('stops on %s with one line naming the variable', (_label, env, expected) => {
    const error = failure(env);
    expect(error.message).toContain(expected);
    expect(error.message).not.toContain('\n');
  });

  it('is an OidcEntitlementsError with the code ERR_CONFIG and the variable', () => {
    const error = failure({ PORT: 'x' });
    expect(error).toBeInstanceOf(OidcEntitlementsError);
    expect(error).toMatchObject({ code: 'ERR_CONFIG', variable: 'PORT', name: 'ConfigError' });
  });

  it('leaves the server-only variables alone in the library (a host may use them for its own ends)', () => {
    const config = loadConfig({ DATABASE_URL: 'mysql://x/y', DB_MIGRATE_ON_START: 'maybe', METRICS_PORT: 'x' });
    expect(config).not.toHaveProperty('databaseUrl');
    expect(config).not.toHaveProperty('port');
  });

  it('reads ./.env when called without an argument, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oidc-ent-dotenv-'));
    writeFileSync(join(dir, '.env'), 'FEATURE_MAILDOMAIN_CREATE=false\nENTITLEMENTS_CACHE_PREFIX=from-file\n');
    const cwd = process.cwd();
    const saved = { ...process.env };
    process.env.ENTITLEMENTS_CACHE_PREFIX = 'from-env';
    try {
      process.chdir(dir);
      const config = loadConfig();
      expect(config.features.maildomainCreate).toBe(false);
      expect(config.entitlements.cache.prefix).toBe('from-env');
    } finally {
      process.chdir(cwd);
      process.env = saved;
    }
  });

  it('never puts a secret in an error', () => {
    const error = failure({ ...DEPLOYCENTER, ENTITLEMENTS_CACHE_TIMEOUT: 'x', SESSION_SECRET: 'session-secret' });
    expect(error.message).not.toMatch(/top-secret-key|session-secret/);
  });
});
