import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startReferenceServer, type ReferenceServer } from '../support/reference-server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'artifacts');
const available = existsSync(CHROMIUM);
if (!available) process.stdout.write(`\nbrowser test SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)\n`);

/** A person in Chromium: the development IdP's real form, the home page, logout. */
(available ? describe : describe.skip)('a person logs in through the development IdP in Chromium', () => {
  let server: ReferenceServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startReferenceServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('sees the domains they administer, then logs out', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.click('#login');
    await page.fill('input[name="login"]', 'alice');
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    await page.click('button[type="submit"]'); // consent
    await page.waitForURL(`${server.url}/`);
    await page.waitForSelector('#domains');
    expect(await page.textContent('#user')).toBe('Alice Martin');
    const domains = await page.textContent('#domains');
    expect(domains).toContain('alice.example.fr');
    expect(domains).toContain('shared.example.fr');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'logged-in.png'), fullPage: true });

    await page.click('#logout');
    await page.waitForURL(/\/dev-idp\/session\/end/);
    await page.click('button[autofocus], button[type="submit"]');
    await page.waitForURL(`${server.url}/`);
    expect(await page.textContent('body')).toContain('You are not logged in');
    await page.screenshot({ path: join(ARTIFACTS, 'logged-out.png') });
  });
});
