import type { RequestHandler } from 'express';
import type { AppPrismaClient } from './db';
import { EntitlementsUnavailableError, type Entitlements, type OidcEntitlements } from '../src/index';
import { escapeHtml as e } from '../src/http/errors';
import type { DemoAccount } from '../src/development/idp';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1e1e1e}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left}
code{background:#f3f3f3;padding:0 .2rem}.button{display:inline-block;background:#000091;color:#fff;border:0;padding:.5rem 1rem;text-decoration:none;cursor:pointer;font-size:1rem}`;

function layout(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>oidc-entitlements</title><style>${STYLE}</style></head><body><h1>oidc-entitlements</h1>${body}</body></html>`;
}

function entitlementsTable(answer: Entitlements): string {
  const rows = Object.entries(answer)
    .map(([key, value]) => `<tr><th><code>${e(key)}</code></th><td>${e(JSON.stringify(value))}</td></tr>`)
    .join('');
  return `<table>${rows}</table>`;
}

export interface HomePageDeps {
  prisma: AppPrismaClient;
  getEntitlements: OidcEntitlements['getEntitlements'];
  /** Shown to anonymous visitors of the development setup. */
  demoAccounts?: DemoAccount[];
}

/** The reference server's page: who is logged in, their entitlements and the domains they administer. */
export function homePage({ prisma, getEntitlements, demoAccounts }: HomePageDeps): RequestHandler {
  return async (req, res) => {
    const user = req.user;
    if (!user) {
      const demo = demoAccounts?.length
        ? `<p>Development IdP: log in as ${demoAccounts.map((a) => `<code>${e(a.id)}</code> (${e(a.email)})`).join(', ')}, any password.</p>`
        : '';
      res.send(layout(`<p>You are not logged in.</p>${demo}<p><a class="button" id="login" href="/api/v1.0/authenticate/">Log in</a></p>`));
      return;
    }
    let answer: string;
    try {
      answer = entitlementsTable(await getEntitlements({ sub: user.sub ?? '', email: user.email }));
    } catch (error) {
      if (!(error instanceof EntitlementsUnavailableError)) throw error;
      answer = '<p>The entitlements service is unavailable.</p>';
    }
    const accesses = await prisma.mailDomainAccess.findMany({
      where: { userId: user.id },
      include: { maildomain: true },
      orderBy: { maildomain: { name: 'asc' } },
    });
    const domains = accesses.length
      ? `<table id="domains"><tr><th>domain</th><th>role</th><th>source</th></tr>${accesses
          .map((a) => `<tr><td>${e(a.maildomain.name)}</td><td>${a.role}</td><td>${a.source}</td></tr>`)
          .join('')}</table>`
      : '<p id="domains">No mail domain access.</p>';
    res.send(
      layout(
        `<p>Logged in as <strong id="user">${e(user.fullName ?? user.email ?? user.id)}</strong> (${e(user.email ?? '')}).</p>` +
          `<h2>Administered domains</h2>${domains}<h2>Entitlements</h2>${answer}` +
          `<form method="post" action="/api/v1.0/logout/"><p><button class="button" id="logout" type="submit">Log out</button></p></form>`,
      ),
    );
  };
}
