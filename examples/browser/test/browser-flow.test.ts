// Clicks through the browser example in real headless Chromium (Debian's, at
// /usr/bin/chromium or CHROMIUM_PATH; never downloaded): the bank's page on
// one origin, the wallet popup on another, the token service on a third.
// Then a page on yet another origin tries to inject forged messages into
// both sides, and a forged invocation into a wallet page it opened itself.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserExample, startBrowserExample } from '../src/start-browser-example.js';

const SCREENSHOTS = join(import.meta.dirname, '..', 'test-results');
/** Any run of 12 or more digits: a card or token number would be one. */
const DIGIT_RUN = /\d(?:[ -]?\d){11,}/;

/**
 * The attacker's page, on a third origin. It opens the bank's page or the
 * wallet page itself, so it holds a handle to that window, and posts whatever
 * it likes to it. (It cannot reach the bank's own wallet popup: Chromium does
 * not hand a cross-origin page that window by name. So the wallet side is
 * attacked through a wallet window the attacker opened, which is the
 * stronger position: there the attacker is even the window's opener.)
 */
const ATTACKER_PAGE = `<!doctype html><meta charset="utf-8"><title>Totally a coupon site</title>
<button id="open-bank">Open the bank</button><button id="open-wallet">Open the wallet</button>
<script>
  const params = new URLSearchParams(location.search);
  let bank, wallet;
  document.getElementById('open-bank').onclick = () => { bank = window.open(params.get('bank'), 'bank-tab'); };
  document.getElementById('open-wallet').onclick = () => { wallet = window.open(params.get('wallet'), 'wallet-tab'); };
  const now = Math.floor(Date.now() / 1000);
  const nonce = 'AAAAAAAAAAAAAAAAAAAAAA';
  /** Forges the wallet's answers for the bank's live session, posted to the bank's window. */
  window.forgeIntoSession = (sessionId) => {
    const identifiers = { type: 'identifiers', version: 1, sessionId, walletProviderId: 'wallet-co', walletAccountId: 'attacker', deviceId: 'attacker-phone', nonce };
    const result = { type: 'result', version: 1, sessionId, status: 'provisioned', tokenReferenceId: 'tok_forged' };
    const declined = { type: 'result', version: 1, sessionId, status: 'declined', errorCode: 'declined' };
    for (const m of [identifiers, result, declined]) bank.postMessage(JSON.stringify(m), '*');
  };
  /** Forges a bank's messages into a wallet page the attacker opened itself: an invocation "from bank-a", then a request. */
  window.forgeIntoWallet = () => {
    const sessionId = 'BBBBBBBBBBBBBBBBBBBBBB';
    const invocation = { type: 'invocation', version: 1, sessionId, issuerId: 'bank-a', account: { last4: '1111', network: 'visa', productName: 'Everyday Debit' }, iat: now, exp: now + 300 };
    const request = { type: 'provisioning-request', version: 1, sessionId, encryptedRequest: 'eyJhbGciOiJub25lIn0.AA.AA.AA.AA' };
    for (const m of [invocation, request]) wallet.postMessage(JSON.stringify(m), '*');
  };
</script>`;

let example: BrowserExample;
let attacker: { server: Server; origin: string };
let context: BrowserContext;
let profileDir: string;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  example = await startBrowserExample();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(ATTACKER_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  attacker = { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  profileDir = mkdtempSync(join(tmpdir(), 'pushprov-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 760 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await example?.close();
  await new Promise<void>((resolve) => (attacker ? attacker.server.close(() => resolve()) : resolve()));
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

async function openBank(page: Page): Promise<void> {
  await page.waitForSelector('body[data-state="ready"]');
  expect(await page.locator('#card-number').textContent()).toBe('•••• •••• •••• 1111');
}

/** Clicks "Add to Wallet Co" and returns the wallet popup once it asks for consent. */
async function clickAddToWallet(bank: Page): Promise<Page> {
  const [popup] = await Promise.all([bank.waitForEvent('popup'), bank.click('#add')]);
  await popup.waitForSelector('body[data-state="awaiting_consent"]');
  expect(new URL(popup.url()).origin).toBe(example.walletOrigin);
  return popup;
}

async function refusedCodes(page: Page): Promise<string[]> {
  return page.locator('#refused li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.code ?? ''));
}

describe('browser example: bank page and wallet popup on two origins', () => {
  it('the origins differ: bank, wallet and token service', () => {
    const origins = new Set([example.issuerOrigin, example.walletOrigin, new URL(example.tokenServiceUrl).origin, attacker.origin]);
    expect(origins.size).toBe(4);
  });

  it('adds the card: click, consent in the popup, the token service issues, the bank page shows the result', async () => {
    const bank = await context.newPage();
    await bank.goto(example.issuerUrl);
    await openBank(bank);
    const popup = await clickAddToWallet(bank);

    // The wallet shows what it may: the issuer (verified by signature), network and last 4 digits.
    expect(await popup.locator('#consent-title').textContent()).toBe('Add Visa •••• 1111?');
    expect(await popup.locator('#verified').textContent()).toBe('✓ Verified: signed by bank-a');
    expect(await popup.locator('#c-number').textContent()).toBe('•••• 1111');
    expect(await popup.content()).not.toMatch(DIGIT_RUN);
    await popup.screenshot({ path: join(SCREENSHOTS, 'wallet-consent.png') });
    expect(await bank.getAttribute('body', 'data-state')).toBe('invoked');

    const closed = popup.waitForEvent('close');
    await popup.click('#accept');
    await bank.waitForSelector('body[data-state="completed"]');
    await closed; // the bank's session closes the popup when it ends

    expect(await bank.locator('#result').textContent()).toMatch(/^Visa •••• 1111 is in Wallet CoReady to pay\. Token reference tok_[A-Za-z0-9_-]+\.$/);
    expect(await bank.getAttribute('body', 'data-token-reference-id')).toMatch(/^tok_[A-Za-z0-9_-]+$/);
    expect(await bank.locator('#steps li.done').count()).toBe(5);
    expect(await refusedCodes(bank)).toEqual([]);
    expect(await bank.content()).not.toMatch(DIGIT_RUN);
    await bank.screenshot({ path: join(SCREENSHOTS, 'issuer-completed.png'), fullPage: true });
    await bank.close();
  });

  it('a page on a third origin holding the bank window cannot inject identifiers or results into its live session', async () => {
    const evil = await context.newPage();
    await evil.goto(`${attacker.origin}/?bank=${encodeURIComponent(example.issuerUrl)}`);
    // The attacker opens the bank's page itself, so it holds a handle to that window.
    const [bank] = await Promise.all([context.waitForEvent('page'), evil.click('#open-bank')]);
    await openBank(bank);
    const popup = await clickAddToWallet(bank);
    const sessionId = (await bank.getAttribute('body', 'data-session-id'))!;
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // Give the attacker every advantage: the real session id, well-formed messages
    // (identifiers for its own account and device, a forged success, a forged decline).
    await evil.evaluate((sid) => (window as unknown as { forgeIntoSession(s: string): void }).forgeIntoSession(sid), sessionId);

    // The bank's page saw all three and refused them: not from its wallet popup, not from the wallet's origin.
    await bank.waitForFunction(() => document.querySelectorAll('#refused li').length >= 3);
    expect(await refusedCodes(bank)).toEqual(['origin_rejected', 'origin_rejected', 'origin_rejected']);
    expect(await refusedCodes(popup)).toEqual([]);
    // Nothing moved: the bank still waits for the real wallet, the wallet still asks the user.
    expect(await bank.getAttribute('body', 'data-state')).toBe('invoked');
    expect(await popup.getAttribute('body', 'data-state')).toBe('awaiting_consent');

    // The real flow then completes, with the real token, not the forged one.
    await popup.click('#accept');
    await bank.waitForSelector('body[data-state="completed"]');
    const tokenReferenceId = await bank.getAttribute('body', 'data-token-reference-id');
    expect(tokenReferenceId).toMatch(/^tok_[A-Za-z0-9_-]+$/);
    expect(tokenReferenceId).not.toBe('tok_forged');
    await bank.screenshot({ path: join(SCREENSHOTS, 'issuer-refused-injection.png'), fullPage: true });
    await bank.close();
    await evil.close();
  });

  it('a page on a third origin that opens the wallet itself cannot inject an invocation or a request', async () => {
    const evil = await context.newPage();
    await evil.goto(`${attacker.origin}/?wallet=${encodeURIComponent(example.walletUrl)}`);
    const [wallet] = await Promise.all([context.waitForEvent('page'), evil.click('#open-wallet')]);
    await wallet.waitForSelector('body[data-listening="true"]');
    await evil.evaluate(() => (window as unknown as { forgeIntoWallet(): void }).forgeIntoWallet());
    await wallet.waitForFunction(() => document.querySelectorAll('#refused li').length >= 2);
    expect(await refusedCodes(wallet)).toEqual(['origin_rejected', 'origin_rejected']);
    expect(await wallet.getAttribute('body', 'data-state')).toBe('waiting');
    expect(await wallet.locator('#view-consent').isHidden()).toBe(true);
    await wallet.close();
    await evil.close();
  });
});
