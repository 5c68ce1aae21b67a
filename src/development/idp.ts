import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';

/** A person of the development IdP: log in with `id` (any password). */
export interface DemoAccount {
  id: string;
  email: string;
  given_name: string;
  family_name: string;
  /** French company id, forwarded to DeployCenter when ENTITLEMENTS_BACKEND_PARAMETERS asks for it. */
  siret?: string;
}

export interface DevIdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
}

export interface DevIdpOptions {
  /** The issuer URL: where the provider is served (a mount path is part of it). */
  issuer: string;
  clients: DevIdpClient[];
  accounts: DemoAccount[];
  /**
   * Behave as strict production servers do: refuse an authorization request without a `nonce`,
   * authenticate clients with `client_secret_basic` only, release `name` but no given or family name.
   */
  strict?: boolean;
}

export const DEMO_ACCOUNTS: DemoAccount[] = [
  { id: 'alice', email: 'alice@example.fr', given_name: 'Alice', family_name: 'Martin', siret: '12345678900011' },
  { id: 'bob', email: 'bob@example.fr', given_name: 'Bob', family_name: 'Durand' },
  { id: 'carol', email: 'carol@numerique.gouv.fr', given_name: 'Carol', family_name: 'Petit', siret: '98765432100022' },
];

/**
 * oidc-provider warns, rightly for production, that it runs on Node 20, keeps its state in memory and
 * shows development login screens: all three are what a development IdP is, so they are not printed.
 */
async function withoutDevelopmentWarnings<T>(build: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('oidc-provider WARNING')) warn(...args);
  };
  try {
    return await build();
  } finally {
    console.warn = warn;
  }
}

/**
 * A real OpenID Provider (oidc-provider) for development and tests: its built-in login and consent
 * screens accept any password for a demo account. Keys are made per process. Never for production.
 */
export async function createDevIdp(options: DevIdpOptions): Promise<Provider> {
  return withoutDevelopmentWarnings(() => buildProvider(options));
}

async function buildProvider({ issuer, clients, accounts, strict = false }: DevIdpOptions): Promise<Provider> {
  // oidc-provider is an ES module; this stays a runtime import so CommonJS builds can load it.
  const { default: OidcProvider } = (await import('oidc-provider')) as { default: typeof Provider };
  const byId = new Map(accounts.map((account) => [account.id, account]));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const configuration: Configuration = {
    clients: clients.map((client) => ({
      ...client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...(strict && { token_endpoint_auth_method: 'client_secret_basic' }),
    })),
    ...(strict && { clientAuthMethods: ['client_secret_basic'] }),
    findAccount: (_ctx, id) => {
      const account = byId.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: account.id,
          email: account.email,
          email_verified: true,
          given_name: account.given_name,
          family_name: account.family_name,
          name: `${account.given_name} ${account.family_name}`,
          ...(account.siret && { siret: account.siret }),
        }),
      };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: strict ? ['name', 'siret'] : ['given_name', 'family_name', 'name', 'siret'],
    },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    jwks: { keys: [{ ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'dev', use: 'sig', alg: 'RS256' }] },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  };
  const provider = new OidcProvider(issuer, configuration);
  provider.proxy = true;
  if (strict) {
    provider.use(async (ctx, next) => {
      if (ctx.path.endsWith('/auth') && !ctx.query.nonce) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'nonce is required' };
        return;
      }
      await next();
    });
  }
  return provider;
}

/** The provider as a Node request listener (for `http.createServer` or an Express mount). */
export function idpRequestListener(provider: Provider): (req: IncomingMessage, res: ServerResponse) => void {
  return provider.callback() as (req: IncomingMessage, res: ServerResponse) => void;
}
