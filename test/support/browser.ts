/**
 * A minimal browser over fetch: a cookie jar per host name (as browsers share cookies across ports),
 * redirects followed by hand, HTML forms submitted as a person would.
 */
export interface Page {
  status: number;
  url: string;
  method: string;
  location: string | null;
  body: string;
  contentType: string;
  /** The Set-Cookie headers of the response, as sent. */
  setCookies: string[];
  headers: Headers;
}

export class Browser {
  readonly cookies = new Map<string, Map<string, string>>();

  constructor(private readonly accept = 'text/html,application/xhtml+xml') {}

  cookie(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).hostname)?.get(name);
  }

  private jar(url: string): Map<string, string> {
    const host = new URL(url).hostname;
    let jar = this.cookies.get(host);
    if (!jar) this.cookies.set(host, (jar = new Map()));
    return jar;
  }

  private store(url: string, setCookies: string[]): void {
    const jar = this.jar(url);
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0/i.test(a) || (/^\s*expires=/i.test(a) && new Date(a.split('=')[1]!) < new Date()));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** One request, no redirect followed. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; json?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    const jar = this.jar(url);
    const headers: Record<string, string> = { accept: this.accept, ...init.headers };
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined || init.raw !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = init.raw ?? JSON.stringify(init.json);
    }
    const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    const setCookies = response.headers.getSetCookie();
    this.store(url, setCookies);
    const location = response.headers.get('location');
    return {
      status: response.status,
      url,
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      location: location ? new URL(location, url).href : null,
      body: await response.text(),
      contentType: response.headers.get('content-type') ?? '',
      setCookies,
      headers: response.headers,
    };
  }

  /** Follows redirects until a page that is not one. */
  async visit(
    url: string,
    init: Parameters<Browser['request']>[1] = {},
    { maxHops = 20, stopAt }: { maxHops?: number; stopAt?: (url: string) => boolean } = {},
  ): Promise<Page> {
    let page = await this.request(url, init);
    for (let hop = 0; page.location && hop < maxHops; hop++) {
      if (stopAt?.(page.location)) return page;
      page = await this.request(page.location);
    }
    return page;
  }

  /** Submits the form of a page that has one (oidc-provider's login and consent screens). */
  async submit(page: Page, fields: Record<string, string>, options: Parameters<Browser['visit']>[2] = {}): Promise<Page> {
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
    if (!action) throw new Error(`no form on ${page.url} (status ${page.status})`);
    const hidden = Object.fromEntries([...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    return this.visit(new URL(action.replace(/&amp;/g, '&'), page.url).href, { form: { ...hidden, ...fields } }, options);
  }
}

/**
 * A person logging in through oidc-provider's development screens: start at `appUrl`'s
 * `authenticate/`, fill the login form (any password), accept the consent screen when it shows.
 * Returns the callback URL the IdP redirected to, not yet visited.
 */
export async function authorizeAt(browser: Browser, appUrl: string, account: string): Promise<string> {
  const atCallback = (url: string) => url.startsWith(appUrl) && url.includes('/api/v1.0/callback/');
  const loginPage = await browser.visit(`${appUrl}/api/v1.0/authenticate/`);
  let page = await browser.submit(loginPage, { login: account, password: 'any password' }, { stopAt: atCallback });
  if (!page.location || !atCallback(page.location)) page = await browser.submit(page, {}, { stopAt: atCallback });
  return page.location!;
}

/** {@link authorizeAt}, then the callback: the page the app lands on. */
export async function loginAt(browser: Browser, appUrl: string, account: string): Promise<Page> {
  return browser.visit(await authorizeAt(browser, appUrl, account));
}
