import { describe, it, before, after } from 'node:test';
import { expect } from 'expect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CONTRACT } from '../support/golden';
import { ROOT, stackEnv } from '../support/stack';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The API docs page in a real headless Chromium (Debian's), offline: every request must stay local. */
describe('API docs page (/docs) in Chromium', () => {
  const port = stackEnv().SERVICE_PORTS.split(',')[0];
  const origin = `http://127.0.0.1:${port}`;
  let context: BrowserContext;
  let profile: string;
  const external: string[] = [];

  before(async () => {
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
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
      viewport: { width: 1280, height: 900 },
    });
    // The machine is offline and the page must not need the internet: anything not local is refused and noted.
    await context.route(
      (url) => url.origin !== origin && url.protocol !== 'data:' && url.protocol !== 'blob:',
      async (route) => {
        external.push(route.request().url());
        await route.abort();
      },
    );
  });

  after(async () => {
    await context?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  it('lists every v1 operation of the contract, loads nothing from outside, and is saved as a screenshot', async () => {
    const contract = JSON.parse(fs.readFileSync(CONTRACT, 'utf8')) as { paths: Record<string, object> };
    const expected = Object.entries(contract.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, item]) =>
        Object.keys(item)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${p}`),
      )
      .sort();

    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const res = await page.goto(`${origin}/docs`, { waitUntil: 'networkidle' });
    expect(res?.status()).toBe(200);
    await page.waitForSelector('.opblock', { timeout: 15_000 });

    const listed: string[] = [];
    for (const block of await page.locator('.opblock-summary').all()) {
      const method = (await block.locator('.opblock-summary-method').textContent())?.trim();
      listed.push(`${method} ${await block.locator('.opblock-summary-path').getAttribute('data-path')}`);
    }
    expect(listed.filter((op) => op.includes(' /v1/')).sort()).toEqual(expected);
    expect(expected).toContain('GET /v1/products/by-sku');
    expect(await page.title()).toBe('Swagger UI');

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'docs-page.png'), fullPage: true });
    expect(fs.statSync(path.join(ARTIFACTS, 'docs-page.png')).size).toBeGreaterThan(10_000);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
  });
});
