import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createDevIdp, DEMO_ACCOUNTS, idpRequestListener } from '../development/idp';
import { UsageError } from './resync';

export const DEV_IDP_HELP = `oidc-entitlements dev-idp --client-id ID --client-secret SECRET --redirect-uri URI [--port 4000] [--host 127.0.0.1] [--post-logout-redirect-uri URI]

DEVELOPMENT ONLY. Starts an OpenID Provider (oidc-provider) with demo accounts that log in with any
password, so that your app's login can be tried without a real IdP. Its issuer is
http://HOST:PORT: set OIDC_ISSUER to it, OIDC_ALLOW_INSECURE_HTTP=true, and OIDC_CLIENT_ID,
OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI to the values given here. Needs oidc-provider 9, which the
package does not install: npm install --save-dev oidc-provider@9. Never expose it on a network.`;

/** `oidc-entitlements dev-idp`: the development IdP on its own port, until interrupted. */
export async function devIdpCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4000' },
      host: { type: 'string', default: '127.0.0.1' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string' },
      'post-logout-redirect-uri': { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--port must be a whole number from 1 to 65535');
  for (const name of ['client-id', 'client-secret', 'redirect-uri'] as const) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
  const redirectUri = values['redirect-uri']!;
  const issuer = `http://${values.host.includes(':') ? `[${values.host}]` : values.host}:${port}`;
  let provider: Awaited<ReturnType<typeof createDevIdp>>;
  try {
    provider = await createDevIdp({
      issuer,
      clients: [
        {
          client_id: values['client-id']!,
          client_secret: values['client-secret']!,
          redirect_uris: [redirectUri],
          post_logout_redirect_uris: [values['post-logout-redirect-uri'] ?? new URL('/', redirectUri).href],
        },
      ],
      accounts: DEMO_ACCOUNTS,
    });
  } catch (error) {
    if (!['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes((error as { code?: string }).code ?? '')) throw error;
    throw new Error('the development IdP needs oidc-provider, which is not installed: npm install --save-dev oidc-provider@9', { cause: error });
  }
  const server = createServer(idpRequestListener(provider));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, values.host, resolve);
  });
  console.log(`development IdP (never for production): ${issuer}`);
  console.log(`  log in as ${DEMO_ACCOUNTS.map((account) => `${account.id} (${account.email})`).join(', ')} with any password`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return 0;
}
