import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { OidcEntitlementsError } from './errors';
import { hostRequire } from './host-require';
import { compileTrust } from './http/client-ip';
import { DEFAULT_DATABASE_URL } from './db/provider';
import { parseDeployCenterParameters, type DeployCenterParameters } from './entitlements/backends/deploycenter';

/** A configuration error (`ERR_CONFIG`): its message is one line that names the variable and never holds a secret. */
export class ConfigError extends OidcEntitlementsError {
  constructor(
    /** The environment variable at fault. */
    readonly variable: string,
    problem: string,
  ) {
    super('ERR_CONFIG', `${variable}: ${problem}`);
  }
}

/** OIDC_TOKEN_ENDPOINT_AUTH_METHOD's values: how the client authenticates at the token endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** SESSION_STORE's values. */
export type SessionStoreKind = 'database' | 'redis';

/**
 * TRUST_PROXY: Express's `trust proxy` — `false` (the peer is the client), `true` (the left-most
 * X-Forwarded-For address), a hop count, or the addresses and subnets of the proxies.
 */
export type TrustProxy = boolean | number | string[];

/** ENTITLEMENTS_SYNC_ON_UNAVAILABLE's values. */
export type SyncOnUnavailable = 'keep' | 'deny';

/** How long entitlements answers are kept. */
export interface CacheConfig {
  /** ENTITLEMENTS_CACHE_TIMEOUT: seconds an answer is fresh after it was fetched. */
  timeout: number;
  /** ENTITLEMENTS_CACHE_STALE_TIMEOUT: seconds after the fetch that an answer may still be served when the service fails. */
  staleTimeout: number;
  /** ENTITLEMENTS_CACHE_PREFIX: key prefix in Redis, so several apps can share one. */
  prefix: string;
  /** ENTITLEMENTS_CACHE_MAX_KEYS: bound of the in-process cache. */
  maxKeys: number;
}

/** What the admin-role sync may do. */
export interface SyncConfig {
  /** ENTITLEMENTS_SYNC_ON_UNAVAILABLE: `keep` lets the login proceed with rows untouched, `deny` refuses it. */
  onUnavailable: SyncOnUnavailable;
  /** ENTITLEMENTS_SYNC_PRESERVE_MANUAL: never remove ADMIN rows the sync did not create. */
  preserveManual: boolean;
  /** ENTITLEMENTS_SYNC_MAX_REVOCATIONS: refuse a sync that would revoke more rows than this; 0: no cap. */
  maxRevocations: number;
  /** ENTITLEMENTS_SYNC_DRY_RUN: compute and log the diff, write nothing. */
  dryRun: boolean;
}

/** The OIDC client and the user rules of a login. */
export interface OidcConfig {
  /** OIDC_ISSUER: the IdP's issuer URL, read by discovery. */
  issuer?: string;
  /** OIDC_CLIENT_ID. */
  clientId?: string;
  /** OIDC_CLIENT_SECRET. */
  clientSecret?: string;
  /** OIDC_REDIRECT_URI: the callback URL registered at the IdP (never derived from a request's Host). */
  redirectUri: string;
  /** OIDC_SCOPES. */
  scopes: string[];
  /** OIDC_ALLOW_INSECURE_HTTP: allow an `http://` issuer (development, tests). */
  allowInsecureHttp: boolean;
  /** OIDC_USE_NONCE: send a `nonce` on every authorization request and check it in the ID token. */
  useNonce: boolean;
  /** OIDC_TOKEN_ENDPOINT_AUTH_METHOD; unset: `client_secret_basic` when discovery lists it (or lists nothing), else `client_secret_post`. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** OIDC_USERINFO_ESSENTIAL_CLAIMS: a login missing one of these claims is refused. */
  essentialClaims: string[];
  /** OIDC_FALLBACK_TO_EMAIL_FOR_IDENTIFICATION: find a user by email when the `sub` is unknown. */
  fallbackToEmailForIdentification: boolean;
  /** OIDC_ALLOW_DUPLICATE_EMAILS: allow a new user whose email another user has. */
  allowDuplicateEmails: boolean;
  /** OIDC_CREATE_USER: create unknown users at login (else refuse them). */
  createUser: boolean;
  /** LOGIN_REDIRECT_URL: where the browser goes after a login. */
  loginRedirectUrl: string;
  /** LOGOUT_REDIRECT_URL: where the browser goes after logout (through the IdP's end-session endpoint when it has one). */
  logoutRedirectUrl: string;
}

/** Where entitlements come from, how long they are kept, and what the sync does with them. */
export interface EntitlementsConfig {
  /** ENTITLEMENTS_BACKEND: `local`, `deploycenter`, or the path of a module exporting a backend class. */
  backend: string;
  /** ENTITLEMENTS_BACKEND_PARAMETERS as given (what a custom backend receives). */
  parameters: Record<string, unknown>;
  /** The same, validated, for the deploycenter backend. */
  deployCenter?: DeployCenterParameters;
  /** ENTITLEMENTS_API_KEY: the DeployCenter key. */
  apiKey?: string;
  /** The entitlements cache. */
  cache: CacheConfig;
  /** The admin-role sync. */
  sync: SyncConfig;
}

/** The feature flags of `GET config/`. */
export interface FeatureFlags {
  /** FEATURE_MAILDOMAIN_CREATE: superusers may create mail domains (`POST maildomains/`). */
  maildomainCreate: boolean;
  /** FEATURE_MAILDOMAIN_MANAGE_ACCESSES: admins may grant and revoke accesses. */
  maildomainManageAccesses: boolean;
}

/** The library's settings, as {@link loadConfig} reads them from the environment. */
export interface Config {
  /** NODE_ENV=production: secure cookies, the development IdP never mounted, secrets required. */
  production: boolean;
  /** SESSION_SECRET: signs the session cookie (random per process in development when unset). */
  sessionSecret: string;
  /** SESSION_COOKIE_AGE: seconds a logged-in session lives, from the login (activity never extends it). */
  sessionCookieAge: number;
  /** SESSION_STORE: `database` (the `sessions` table) or `redis` (needs REDIS_URL; a Redis outage then ends sessions). */
  sessionStore: SessionStoreKind;
  /** REDIS_URL: the entitlements cache and its coalescing lock shared across instances (and sessions with SESSION_STORE=redis). */
  redisUrl?: string;
  /** The OIDC client and the user rules at login. */
  oidc: OidcConfig;
  /** The entitlements backend, its cache and the admin-role sync. */
  entitlements: EntitlementsConfig;
  /** PROVISIONING_API_KEY: bearer key of `POST provisioning/maildomains/` (unset: the route answers 403). */
  provisioningApiKey?: string;
  /** RESYNC_API_KEY: bearer key of `POST entitlements/resync/` (the provisioning key when unset). */
  resyncApiKey?: string;
  /** The feature flags of `GET config/`. */
  features: FeatureFlags;
  /** TRUST_PROXY: who the client is (rate limits, logs) and whether the request came over TLS (`Secure` cookies). */
  trustProxy: TrustProxy;
  /** CSRF_TRUSTED_ORIGINS: origins besides the app's own allowed to send cookie-authenticated POST, PUT, PATCH, DELETE. */
  csrfTrustedOrigins: string[];
  /** RATE_LIMIT_PER_MINUTE: per client IP, requests to `authenticate/` and `callback/`, and failed bearer keys; 0: no limit. */
  rateLimitPerMinute: number;
  /** PROVISIONING_MAX_DOMAINS: most domains in one provisioning request (more: 400). */
  provisioningMaxDomains: number;
  /** METRICS_API_KEY: bearer key of `/metrics` on the main port (in production it is served there only with one). */
  metricsApiKey?: string;
  /** Things worth a warning at start (never secrets). */
  warnings: string[];
}

/** The reference server's settings: the library's and those of the process around it. */
export interface ServerConfig extends Config {
  port: number;
  /** HOST: the bind address (127.0.0.1 in development, 0.0.0.0 in production). */
  host: string;
  databaseUrl: string;
  migrateOnStart: boolean;
  metricsPort?: number;
}

/** Environment variables, as `process.env` holds them. */
export type Env = Record<string, string | undefined>;

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

class EnvReader {
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (TRUE.has(value.toLowerCase())) return true;
    if (FALSE.has(value.toLowerCase())) return false;
    throw new ConfigError(name, `must be true or false (got "${value}")`);
  }

  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${value}")`);
    }
    return parsed;
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, 'is not a valid URL');
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `must be a ${protocols.map((p) => p.replace(/:$/, '://')).join(' or ')} URL`);
    }
    return value;
  }

  list(name: string, fallback: string[], separator: RegExp = /,/): string[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return value
      .split(separator)
      .map((item) => item.trim())
      .filter(Boolean);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
    }
    return value as T;
  }

  /** A secret from `NAME` or from the file named by `NAME_FILE` (for mounted secrets and rotation). */
  secret(name: string): string | undefined {
    const direct = this.raw(name);
    const file = this.raw(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) throw new ConfigError(name, `set ${name} or ${name}_FILE, not both`);
    if (file === undefined) return direct;
    let content: string;
    try {
      content = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`${name}_FILE`, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!content) throw new ConfigError(`${name}_FILE`, 'the file is empty');
    return content;
  }
}

function trustProxy(read: EnvReader): TrustProxy {
  const value = read.raw('TRUST_PROXY');
  if (value === undefined) return false;
  if (TRUE.has(value.toLowerCase())) return true;
  if (FALSE.has(value.toLowerCase())) return false;
  if (/^\d+$/.test(value)) return read.int('TRUST_PROXY', 0, { max: 100 });
  const addresses = read.list('TRUST_PROXY', []);
  try {
    compileTrust(addresses);
  } catch {
    throw new ConfigError('TRUST_PROXY', 'must be true, false, a hop count, or a comma list of addresses and subnets (10.0.0.0/8, loopback, …)');
  }
  return addresses;
}

/** A list of origins (`scheme://host[:port]`), each checked. */
function origins(read: EnvReader, name: string, fallback: string[]): string[] {
  return read.list(name, fallback).map((value) => {
    let origin: string;
    try {
      origin = new URL(value).origin;
    } catch {
      throw new ConfigError(name, `"${value}" is not an origin (scheme://host[:port])`);
    }
    if (origin === 'null' || origin !== value.replace(/\/$/, '')) throw new ConfigError(name, `"${value}" is not an origin (scheme://host[:port], no path)`);
    return origin;
  });
}

/** In production, secrets that protect this app must be long enough not to be guessed (docs/specification.md §3). */
const MIN_SECRET_LENGTH = 32;

function requireStrong(name: string, value: string | undefined, production: boolean): void {
  if (production && value !== undefined && value.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(name, `is shorter than ${MIN_SECRET_LENGTH} characters: use a long random value in production (openssl rand -hex 32)`);
  }
}

const jsonObject = z.record(z.string(), z.unknown());

function parseBackendParameters(read: EnvReader): Record<string, unknown> {
  const value = read.raw('ENTITLEMENTS_BACKEND_PARAMETERS');
  if (value === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError('ENTITLEMENTS_BACKEND_PARAMETERS', 'is not valid JSON');
  }
  const object = jsonObject.safeParse(parsed);
  if (!object.success) throw new ConfigError('ENTITLEMENTS_BACKEND_PARAMETERS', 'must be a JSON object');
  return object.data;
}

function entitlementsConfig(read: EnvReader, warnings: string[]): EntitlementsConfig {
  const backend = read.string('ENTITLEMENTS_BACKEND', 'local');
  const rawParameters = parseBackendParameters(read);
  let apiKey = read.secret('ENTITLEMENTS_API_KEY');
  let deployCenter: DeployCenterParameters | undefined;

  if (backend === 'deploycenter') {
    const result = parseDeployCenterParameters(rawParameters);
    if (!result.ok) throw new ConfigError('ENTITLEMENTS_BACKEND_PARAMETERS', result.problem);
    deployCenter = result.parameters;
    if (result.apiKey !== undefined) {
      warnings.push('ENTITLEMENTS_BACKEND_PARAMETERS holds an api_key: move it to ENTITLEMENTS_API_KEY or ENTITLEMENTS_API_KEY_FILE');
      apiKey ??= result.apiKey;
    }
    if (!apiKey) throw new ConfigError('ENTITLEMENTS_API_KEY', 'is required by the deploycenter backend');
  } else if (backend !== 'local') {
    try {
      hostRequire().resolve(backend);
    } catch {
      throw new ConfigError('ENTITLEMENTS_BACKEND', `unknown backend "${backend}": use local, deploycenter or the path of a module`);
    }
  }

  const timeout = read.int('ENTITLEMENTS_CACHE_TIMEOUT', 300);
  const staleTimeout = read.int('ENTITLEMENTS_CACHE_STALE_TIMEOUT', 86400);
  if (staleTimeout < timeout) {
    throw new ConfigError('ENTITLEMENTS_CACHE_STALE_TIMEOUT', `must not be below ENTITLEMENTS_CACHE_TIMEOUT (${timeout})`);
  }
  const prefix = read.string('ENTITLEMENTS_CACHE_PREFIX', 'oidc-entitlements');
  if (!/^[\w.:-]+$/.test(prefix)) {
    throw new ConfigError('ENTITLEMENTS_CACHE_PREFIX', 'may hold only letters, digits and . _ : -');
  }
  return {
    backend,
    parameters: rawParameters,
    deployCenter,
    apiKey,
    cache: { timeout, staleTimeout, prefix, maxKeys: read.int('ENTITLEMENTS_CACHE_MAX_KEYS', 100000, { min: 1 }) },
    sync: {
      onUnavailable: read.oneOf('ENTITLEMENTS_SYNC_ON_UNAVAILABLE', ['keep', 'deny'] as const, 'keep'),
      preserveManual: read.bool('ENTITLEMENTS_SYNC_PRESERVE_MANUAL', false),
      maxRevocations: read.int('ENTITLEMENTS_SYNC_MAX_REVOCATIONS', 0),
      dryRun: read.bool('ENTITLEMENTS_SYNC_DRY_RUN', false),
    },
  };
}

function oidcConfig(read: EnvReader, port: number, production: boolean): OidcConfig {
  const issuer = read.url('OIDC_ISSUER', ['http:', 'https:']);
  if (!issuer && production) {
    throw new ConfigError('OIDC_ISSUER', 'is required when NODE_ENV=production (the development IdP is never mounted there)');
  }
  const allowInsecureHttp = read.bool('OIDC_ALLOW_INSECURE_HTTP', false);
  if (issuer?.startsWith('http:') && !allowInsecureHttp) {
    throw new ConfigError('OIDC_ISSUER', 'is an http:// URL: set OIDC_ALLOW_INSECURE_HTTP=true to allow it (development only)');
  }
  const clientId = read.raw('OIDC_CLIENT_ID');
  if (issuer && !clientId) throw new ConfigError('OIDC_CLIENT_ID', 'is required when OIDC_ISSUER is set');
  const fallbackToEmailForIdentification = read.bool('OIDC_FALLBACK_TO_EMAIL_FOR_IDENTIFICATION', true);
  const allowDuplicateEmails = read.bool('OIDC_ALLOW_DUPLICATE_EMAILS', false);
  if (fallbackToEmailForIdentification && allowDuplicateEmails) {
    throw new ConfigError(
      'OIDC_ALLOW_DUPLICATE_EMAILS',
      'cannot be true while OIDC_FALLBACK_TO_EMAIL_FOR_IDENTIFICATION is true (a user could take over another account)',
    );
  }
  return {
    issuer,
    clientId,
    clientSecret: read.secret('OIDC_CLIENT_SECRET'),
    redirectUri: read.url('OIDC_REDIRECT_URI', ['http:', 'https:']) ?? `http://localhost:${port}/api/v1.0/callback/`,
    scopes: read.list('OIDC_SCOPES', ['openid', 'email', 'profile'], /[\s,]+/),
    allowInsecureHttp,
    useNonce: read.bool('OIDC_USE_NONCE', true),
    tokenEndpointAuthMethod: read.raw('OIDC_TOKEN_ENDPOINT_AUTH_METHOD')
      ? read.oneOf('OIDC_TOKEN_ENDPOINT_AUTH_METHOD', ['client_secret_basic', 'client_secret_post'] as const, 'client_secret_basic')
      : undefined,
    essentialClaims: read.list('OIDC_USERINFO_ESSENTIAL_CLAIMS', []),
    fallbackToEmailForIdentification,
    allowDuplicateEmails,
    createUser: read.bool('OIDC_CREATE_USER', true),
    loginRedirectUrl: read.string('LOGIN_REDIRECT_URL', '/'),
    logoutRedirectUrl: read.string('LOGOUT_REDIRECT_URL', '/'),
  };
}

/** Adds the variables of `./.env`, when the file exists, to `process.env` (variables already set win). */
export function loadDotEnv(): void {
  if (!existsSync('.env')) return;
  for (const [name, value] of Object.entries(parseEnv(readFileSync('.env', 'utf8')))) process.env[name] ??= value;
}

function readLibraryConfig(read: EnvReader, production: boolean): Config {
  let sessionSecret = read.secret('SESSION_SECRET');
  if (!sessionSecret) {
    if (production) throw new ConfigError('SESSION_SECRET', 'is required when NODE_ENV=production');
    sessionSecret = randomBytes(32).toString('hex');
  }
  const provisioningApiKey = read.secret('PROVISIONING_API_KEY');
  const resyncApiKey = read.secret('RESYNC_API_KEY');
  const metricsApiKey = read.secret('METRICS_API_KEY');
  for (const [name, value] of Object.entries({
    SESSION_SECRET: sessionSecret,
    PROVISIONING_API_KEY: provisioningApiKey,
    RESYNC_API_KEY: resyncApiKey,
    METRICS_API_KEY: metricsApiKey,
  })) {
    requireStrong(name, value, production);
  }
  const warnings: string[] = [];
  const redisUrl = read.url('REDIS_URL', ['redis:', 'rediss:']);
  const sessionStore = read.oneOf('SESSION_STORE', ['database', 'redis'] as const, 'database');
  if (sessionStore === 'redis' && !redisUrl) throw new ConfigError('SESSION_STORE', 'is redis but REDIS_URL is not set');
  const oidc = oidcConfig(read, read.int('PORT', 3000, { min: 1, max: 65535 }), production);
  return {
    production,
    sessionSecret,
    sessionCookieAge: read.int('SESSION_COOKIE_AGE', 43200, { min: 60 }),
    sessionStore,
    redisUrl,
    // The default redirect URI is the reference server's (on PORT).
    oidc,
    entitlements: entitlementsConfig(read, warnings),
    provisioningApiKey,
    resyncApiKey: resyncApiKey ?? provisioningApiKey,
    features: {
      maildomainCreate: read.bool('FEATURE_MAILDOMAIN_CREATE', true),
      maildomainManageAccesses: read.bool('FEATURE_MAILDOMAIN_MANAGE_ACCESSES', true),
    },
    trustProxy: trustProxy(read),
    csrfTrustedOrigins: origins(read, 'CSRF_TRUSTED_ORIGINS', [new URL(oidc.redirectUri).origin]),
    rateLimitPerMinute: read.int('RATE_LIMIT_PER_MINUTE', 60),
    provisioningMaxDomains: read.int('PROVISIONING_MAX_DOMAINS', 1000, { min: 1 }),
    metricsApiKey,
    warnings,
  };
}

function environment(env: Env | undefined): Env {
  if (env !== undefined) return env;
  loadDotEnv();
  return process.env;
}

/**
 * Reads and validates the library's settings from environment variables (docs/configuration.md);
 * throws a {@link ConfigError} naming the first bad variable. Without an argument it reads
 * `process.env`, after adding the variables of `./.env` when that file exists (variables already set
 * win). Server-only variables (`DATABASE_URL`, `HOST`, …) are not read.
 */
export function loadConfig(env?: Env): Config {
  const vars = environment(env);
  return readLibraryConfig(new EnvReader(vars), vars.NODE_ENV === 'production');
}

/** The reference server's settings: the library's plus `PORT`, `HOST`, `DATABASE_URL`, `DB_MIGRATE_ON_START`, `METRICS_PORT`. */
export function loadServerConfig(env?: Env): ServerConfig {
  const vars = environment(env);
  const read = new EnvReader(vars);
  const databaseUrl = read.string('DATABASE_URL', DEFAULT_DATABASE_URL);
  if (/^[a-z][\w+.-]*:\/\//i.test(databaseUrl) && !/^(postgres(ql)?|file):\/\//i.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a SQLite file (file:...) or a postgres:// / postgresql:// URL');
  }
  const production = vars.NODE_ENV === 'production';
  return {
    ...readLibraryConfig(read, production),
    port: read.int('PORT', 3000, { min: 1, max: 65535 }),
    // The development IdP accepts any password: never on the network unless asked for.
    host: read.string('HOST', production ? '0.0.0.0' : '127.0.0.1'),
    databaseUrl,
    migrateOnStart: read.bool('DB_MIGRATE_ON_START', true),
    metricsPort: read.raw('METRICS_PORT') === undefined ? undefined : read.int('METRICS_PORT', 0, { min: 1, max: 65535 }),
  };
}
