// The request inspector's page in headless Chromium (playwright-core, the
// system's /usr/bin/chromium or CHROMIUM_PATH), served by a sandbox token
// service on 127.0.0.1: one submission failing at each step 3 to 15,
// pasted, and what the page shows for it (the failing row, its code and
// troubleshooting link, the steps before passed and after not reached, the
// decoded headers, the masked claims, the binding side by side); then
// recent requests failing at steps 1, 2 and 13, picked from the list and
// found by correlation id. No card or token number on any screen, no
// console error (the page runs under its strict CSP).
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TROUBLESHOOTING_URL, silentLogger } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { API_KEY, type Fixture, PAN, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';
import { failingCases } from './inspector-cases.js';

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let server: RunningTokenServer;
let browser: Browser;

beforeAll(async () => {
  fx = await createFixture();
  temp = createTempDir('inspector-page-');
  server = await startTokenServer({ config: { ...fx.config, sandbox: true }, dbPath: join(temp.dir, 'tokens.db'), clock: fx.clock, purgeIntervalMs: 0, logger: silentLogger });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  temp?.remove();
});

/** A page of the inspector, collecting console errors (a CSP violation is one). */
async function openInspector(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/sandbox/inspector`);
  await page.waitForSelector('#wallet-provider option[value="wallet-co"]', { state: 'attached' });
  return { page, errors };
}

/** What the page shows: the whole text, checked for card and token numbers. */
async function screenText(page: Page): Promise<string> {
  const text = await page.locator('body').innerText();
  expect(text).not.toMatch(/[0-9]{12,}/);
  expect(text).not.toContain(PAN);
  return text;
}

async function expectFailedAt(page: Page, step: number, code: string): Promise<void> {
  const row = page.locator(`#steps tr[data-step="${step}"]`);
  await expect.poll(() => row.getAttribute('data-status')).toBe('failed');
  expect(await page.locator('#steps tr[data-status="failed"]').count()).toBe(1);
  expect((await row.locator('td').nth(3).textContent())?.trim()).toBe(code);
  const link = row.locator('a.troubleshooting');
  expect(await link.getAttribute('href')).toBe(`${TROUBLESHOOTING_URL}#${code}`);
  expect(await link.getAttribute('data-doc')).toBe(`docs/troubleshooting.md#${code}`);
  expect(await page.locator('#outcome').textContent()).toContain(`Refused at step ${step}`);
  expect(await page.locator('#outcome').textContent()).toContain(code);
  for (let n = step + 1; n <= 16; n++) expect(await page.locator(`#steps tr[data-step="${n}"]`).getAttribute('data-status')).toBe('not_reached');
}

describe('the request inspector page in Chromium', () => {
  it('a pasted submission failing at each step 3 to 15: the failing row, its troubleshooting link, headers, masked claims and the binding', async () => {
    const { page, errors } = await openInspector();
    const cases = await failingCases(fx);
    for (const c of cases) {
      if (c.useFirst) expect((await postSubmission(server.url, c.body)).status).toBe(201);
      await page.fill('#submission', c.body);
      // A fresh report each time: wait for this case's outcome, not the last one's.
      await page.evaluate(() => {
        document.getElementById('outcome')!.textContent = '';
      });
      await page.click('#inspect-button');
      await expect.poll(() => page.locator('#outcome').textContent()).toContain(`step ${c.step} `);
      await expectFailedAt(page, c.step, c.code);
      for (let n = 4; n < c.step; n++) expect(await page.locator(`#steps tr[data-step="${n}"]`).getAttribute('data-status'), `step ${n} before ${c.step}`).toBe('passed');
      expect(await page.locator('#jwe-box').isVisible()).toBe(c.step >= 4);
      if (c.step >= 4) expect(await page.locator('#jwe-header').textContent()).toContain('ECDH-ES+A256KW');
      expect(await page.locator('#jws-box').isVisible()).toBe(c.step >= 6);
      // The header as decoded: at step 6 the refused one (typ JWT).
      if (c.step >= 6) expect(await page.locator('#jws-header').textContent()).toContain(c.step === 6 ? '"typ": "JWT"' : '"typ": "pushprov-request+jwt"');
      expect(await page.locator('#claims-box').isVisible()).toBe(c.step >= 7);
      if (c.step >= 7) expect(await page.locator('#claims').textContent()).toMatch(/"pan": "•••• \d{4}"/);
      expect(await page.locator('#binding-box').isVisible()).toBe(c.step >= 13);
      if (c.step === 13) {
        expect(await page.locator('#binding tr[data-matches="false"]').count()).toBe(1);
        const row = page.locator('#binding tr[data-field="deviceId"]');
        expect(await row.getAttribute('data-matches')).toBe('false');
        expect(await row.locator('td.submitted').textContent()).toBe('device-somewhere-else');
        expect(await row.locator('td.claim').textContent()).toMatch(/^device-/);
      }
      await screenText(page);
      if (c.step === 13) await page.screenshot({ path: join(temp.dir, 'inspector-binding.png'), fullPage: true });
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('recent requests failing at steps 1, 2 and 13: picked from the list, found by correlation id', async () => {
    const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers() });
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(`${server.url}/v1/provisioning-requests`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post(submission, { authorization: 'Bearer not-a-key-not-a-key-not-a-key-00', 'idempotency-key': 'p-1', 'x-correlation-id': 'page-unauth' })).status).toBe(401);
    expect((await post(submission, { authorization: `Bearer ${API_KEY}`, 'x-correlation-id': 'page-no-key' })).status).toBe(400);
    const moved = await post({ ...submission, deviceId: 'device-stolen' }, { authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'p-2', 'x-correlation-id': 'page-moved' });
    expect(moved.status).toBe(422);

    const { page, errors } = await openInspector();
    const unauthRow = page.locator('#recent tr[data-request-id]', { hasText: 'page-unauth' });
    await unauthRow.waitFor();
    expect(await unauthRow.locator('td').nth(3).textContent()).toBe('401');
    await unauthRow.locator('button.inspect-recent').click();
    await expect.poll(() => page.locator('#request-facts').textContent()).toContain('page-unauth');
    await expectFailedAt(page, 1, 'unauthenticated');

    await page.fill('#find-id', 'page-no-key');
    await page.click('#find-button');
    await expect.poll(() => page.locator('#request-facts').textContent()).toContain('page-no-key');
    await expectFailedAt(page, 2, 'missing_idempotency_key');

    await page.fill('#find-id', moved.headers.get('x-request-id')!);
    await page.click('#find-button');
    await expect.poll(() => page.locator('#request-facts').textContent()).toContain('page-moved');
    await expectFailedAt(page, 13, 'device_mismatch');
    for (let n = 1; n < 13; n++) expect(await page.locator(`#steps tr[data-step="${n}"]`).getAttribute('data-status')).toBe('passed');
    expect(await page.locator('#binding tr[data-field="deviceId"] td.submitted').textContent()).toBe('device-stolen');
    expect(await page.locator('#request-facts').textContent()).toContain('wallet provider wallet-co');
    await screenText(page);

    // An id it does not know: said so, nothing else changes.
    await page.fill('#find-id', 'no-such-request');
    await page.click('#find-button');
    await expect.poll(() => page.locator('#error').textContent()).toContain('No recent request');
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
    await page.close();
  }, 60_000);
});
