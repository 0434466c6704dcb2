// Clicks through the browser example in real headless Chromium (Debian's, at
// /usr/bin/chromium or CHROMIUM_PATH; never downloaded): the bank's page on
// one origin, the wallet popup on another, the token service on a third.
//
// First every screen a customer meets, at desktop (1280 px) and phone (390 px)
// width: start, waiting for the wallet, consent, success, already added,
// declined, "Not now", window closed. Each is checked for what it shows and
// saved to examples/browser/screenshots/ (committed; the README shows them).
// Then a page on yet another origin tries to inject forged messages into
// both sides, and a forged invocation into a wallet page it opened itself.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserExample, startBrowserExample } from '../src/start-browser-example.js';

const SCREENSHOTS = join(import.meta.dirname, '..', 'screenshots');
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


const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
type ViewportName = keyof typeof VIEWPORTS;
/** The wallet popup's size on a desktop (the bank opens it `width=480,height=720`); on a phone it fills the screen. */
const POPUP_DESKTOP = { width: 480, height: 720 };
/** What a customer must never see unless they open "Details": token references, session and account ids, party slugs. */
const INTERNAL_ID = /tok_[A-Za-z0-9_-]+|acc_[a-z0-9_]+|bank-a|wallet-co\b|wallet-user-42|browser-[0-9a-f]{8}|[A-Za-z0-9_-]{22}|origin_rejected|consent_denied|channel_closed|declined:/;

let example: BrowserExample;
let attacker: { server: Server; origin: string };
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  example = await startBrowserExample({ walletCloseDelayMs: 1500 });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(ATTACKER_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  attacker = { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await example?.close();
  await new Promise<void>((resolve) => (attacker ? attacker.server.close(() => resolve()) : resolve()));
});

/** A fresh browser profile (its own localStorage: device id and key, remembered tokens) at the given width. */
function newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
  return browser.newContext({ viewport, deviceScaleFactor: 1 });
}

async function openBank(page: Page): Promise<void> {
  await page.waitForSelector('body[data-state="ready"]');
  expect(await page.locator('#card-number').textContent()).toBe('•••• •••• •••• 1111');
}

/** Clicks "Add to Wallet Co" and returns the wallet popup once it asks for consent. */
async function clickAddToWallet(bank: Page, popupSize?: { width: number; height: number }): Promise<Page> {
  const [popup] = await Promise.all([bank.waitForEvent('popup'), bank.click('#add')]);
  if (popupSize) await popup.setViewportSize(popupSize);
  await popup.waitForSelector('body[data-state="awaiting_consent"]');
  expect(new URL(popup.url()).origin).toBe(example.walletOrigin);
  return popup;
}

async function refusedCodes(page: Page): Promise<string[]> {
  return page.locator('#refused li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.code ?? ''));
}

/** What the customer can read: the rendered text (a closed <details> is not rendered). */
const visibleText = (page: Page) => page.evaluate(() => document.body.innerText);

/** The step marks of the bank's progress list, in order. */
const stepMarks = (bank: Page) => bank.locator('#steps li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.mark ?? ''));

/** Every visible element drawn in red (text, background or border): none may be on a calm ending. */
function redElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const reddish = (color: string): boolean => {
      const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(color);
      if (!m) return false;
      const [r, g, b] = [Number(m[1]) / 255, Number(m[2]) / 255, Number(m[3]) / 255];
      if (m[4] !== undefined && Number(m[4]) < 0.1) return false;
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      const l = (max + min) / 2;
      if (max === min || max !== r) return false;
      const s = (max - min) / (1 - Math.abs(2 * l - 1));
      const hue = (60 * ((g - b) / (max - min)) + 360) % 360;
      return (hue <= 15 || hue >= 345) && s >= 0.4 && l >= 0.15 && l <= 0.985;
    };
    const found: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('body *')) {
      if (!el.checkVisibility()) continue;
      const style = getComputedStyle(el);
      const colors = [style.backgroundColor, style.borderTopColor !== style.color && style.borderTopWidth !== '0px' ? style.borderTopColor : ''];
      if (el.childNodes.length > 0 && [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())) colors.push(style.color);
      if (colors.some((c) => c && reddish(c))) found.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
    }
    return found;
  });
}

/** How many lines an element's text takes, and whether it overflows its box. */
function lines(page: Page, selector: string): Promise<{ lines: number; overflows: boolean; height: number }> {
  return page.locator(selector).evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
    return { lines: tops.size, overflows: el.scrollWidth > el.clientWidth, height: el.getBoundingClientRect().height };
  });
}

/** Whether the element is entirely inside the viewport (the customer sees it without scrolling). */
const inView = (page: Page, selector: string) =>
  page.locator(selector).evaluate((el) => {
    const rect = el.getBoundingClientRect();
    return rect.top >= 0 && rect.bottom <= window.innerHeight && rect.height > 0;
  });

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: 'disabled' });
}

/** The checks every bank screen passes: no card number, no internal id outside "Details". */
async function checkCustomerView(page: Page): Promise<void> {
  const text = await visibleText(page);
  expect(text).not.toMatch(DIGIT_RUN);
  expect(text).not.toMatch(INTERNAL_ID);
  expect(await page.content()).not.toMatch(DIGIT_RUN);
}

for (const name of Object.keys(VIEWPORTS) as ViewportName[]) {
  const viewport = VIEWPORTS[name];
  const popupSize = name === 'desktop' ? POPUP_DESKTOP : viewport;
  const file = (screen: string) => `${name}-${screen}`;

  describe(`what the customer sees, ${name} (${viewport.width} px)`, () => {
    let context: BrowserContext;
    let bank: Page;

    beforeAll(async () => {
      context = await newContext(viewport);
      bank = await context.newPage();
    });
    afterAll(() => context?.close());

    /** Waits for the bank's ending and checks it is in view. */
    async function bankEnding(outcome: string): Promise<void> {
      await bank.waitForSelector(`body[data-outcome="${outcome}"]`);
      expect(await bank.locator('#add').isEnabled()).toBe(true);
      expect(await inView(bank, '#result')).toBe(true);
      await checkCustomerView(bank);
    }

    it('start: the cards, one line each, and no progress panel yet', async () => {
      await bank.goto(example.issuerUrl);
      await openBank(bank);
      expect(await bank.locator('#status-panel').isHidden()).toBe(true);
      const options = await bank.locator('.card-option').allInnerTexts();
      expect(options.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
        'Everyday Debit •••• 1111',
        'Travel Debit •••• 0002 Test card: the sandbox bank declines it',
        'Rewards Credit •••• 0010 Test card: already in the wallet on your watch',
        'Sandbox Debit •••• 0069 Test card: the bank asks you to confirm it’s you',
        'Sandbox Credit •••• 0028 Test card: a code by text message',
        'Sandbox Prepaid •••• 0044 Test card: you confirm it here, at Bank A',
      ]);
      const number = await lines(bank, '#card-number');
      expect(number, 'the card number stays on one line').toMatchObject({ lines: 1, overflows: false });
      expect(number.height).toBeLessThan(30);
      await checkCustomerView(bank);
      await shot(bank, file('1-start'));
    });

    it('waiting for the wallet, consent in the wallet, then the card is added', async () => {
      const popup = await clickAddToWallet(bank, popupSize);
      // The bank says where the customer has to act.
      await bank.waitForSelector('body[data-state="invoked"]');
      expect(await bank.locator('#status-line').textContent()).toBe('Confirm in the Wallet Co window');
      expect(await stepMarks(bank)).toEqual(['done', 'active', 'pending', 'pending']);
      expect(await bank.locator('#steps li.active small').textContent()).toBe('Wallet Co is asking you');
      expect(await inView(bank, '#steps'), 'the progress is in view').toBe(true);
      await checkCustomerView(bank);
      await shot(bank, file('2-waiting'));

      // The wallet shows what it may: the bank (verified by signature), network and last 4 digits.
      expect(await popup.locator('#consent-title').textContent()).toBe('Add Visa •••• 1111?');
      expect(await popup.locator('#verified').textContent()).toBe('✓ Verified: this card is from Bank A');
      expect(await popup.locator('#c-number').textContent()).toBe('•••• 1111');
      expect(await lines(popup, '#c-number')).toMatchObject({ lines: 1, overflows: false });
      await checkCustomerView(popup);
      await shot(popup, file('3-consent'));

      const closed = popup.waitForEvent('close');
      await popup.click('#accept');
      await popup.waitForSelector('body[data-outcome="added"]');
      expect(await popup.locator('#progress-title').textContent()).toBe('Card added');
      expect(await popup.locator('#wallet-result').textContent()).toBe('Visa •••• 1111 is ready to use.');
      expect(await popup.locator('#closing').isVisible()).toBe(true);
      await checkCustomerView(popup);
      await shot(popup, file('4-wallet-added'));

      await bankEnding('added');
      await closed; // the wallet shows its ending, then closes its window
      expect(await bank.locator('#result').innerText()).toBe('Visa •••• 1111 is in Wallet Co\nYou can pay with it now.');
      expect(await stepMarks(bank)).toEqual(['done', 'done', 'done', 'done']);
      expect(await refusedCodes(bank)).toEqual([]);
      expect(await redElements(bank)).toEqual([]);
      await shot(bank, file('4-added'));

      // The ids are there for developers, behind "Details".
      const tokenReferenceId = (await bank.getAttribute('body', 'data-token-reference-id'))!;
      expect(tokenReferenceId).toMatch(/^tok_[A-Za-z0-9_-]+$/);
      expect(await visibleText(bank)).not.toContain(tokenReferenceId);
      await bank.click('#details summary');
      const details = await bank.locator('#details').innerText();
      expect(details).toContain(tokenReferenceId);
      expect(details).toContain('bank-a');
      expect(details).toContain((await bank.getAttribute('body', 'data-session-id'))!);
      await bank.click('#details summary');
    }, 30_000);

    it('already added: the same card again reads differently', async () => {
      const popup = await clickAddToWallet(bank, popupSize);
      const closed = popup.waitForEvent('close');
      await popup.click('#accept');
      await popup.waitForSelector('body[data-outcome="already_added"]');
      expect(await popup.locator('#progress-title').textContent()).toBe('Already in Wallet Co');
      expect(await popup.locator('#wallet-result').textContent()).toBe('Visa •••• 1111 was already on this device, so nothing changed.');
      await shot(popup, file('5-wallet-already-added'));
      await bankEnding('already_added');
      expect(await bank.locator('#result').innerText()).toBe('Visa •••• 1111 is already in Wallet Co\nIt was added before, so nothing changed. You can pay with it.');
      expect(await redElements(bank)).toEqual([]);
      await shot(bank, file('5-already-added'));
      await closed;
    }, 30_000);

    it('declined: the test card the bank declines, the approval step marked failed', async () => {
      await bank.click('.card-option[data-last4="0002"]');
      expect(await bank.locator('#card-number').textContent()).toBe('•••• •••• •••• 0002');
      const popup = await clickAddToWallet(bank, popupSize);
      expect(await popup.locator('#consent-title').textContent()).toBe('Add Visa •••• 0002?');
      const closed = popup.waitForEvent('close');
      await popup.click('#accept');
      await popup.waitForSelector('body[data-outcome="declined"]');
      expect(await popup.getAttribute('body', 'data-error-code')).toBe('declined');
      expect(await popup.locator('#progress-title').textContent()).toBe('Card not added');
      expect(await popup.locator('#wallet-result').textContent()).toBe('Your bank didn’t approve adding this card. Please contact your bank if you need help.');
      expect(await popup.locator('#wallet-steps li').evaluateAll((items) => items.map((li) => li.className))).toEqual(['done', 'done', 'failed', '', '']);
      await checkCustomerView(popup);
      await shot(popup, file('6-wallet-declined'));

      await bankEnding('declined');
      expect(await bank.getAttribute('body', 'data-error-code')).toBe('declined');
      expect(await stepMarks(bank)).toEqual(['done', 'done', 'done', 'failed']);
      expect(await bank.locator('#steps li.failed').innerText()).toBe('Approved by Bank A\nBank A didn’t approve it');
      expect(await bank.locator('#result').innerText()).toBe('Visa •••• 0002 couldn’t be added\nWe couldn’t add this card to your wallet. Please contact us if you need help.');
      expect(await bank.locator('#add').innerText()).toBe('Add to Wallet Co'); // not retryable: no "Try again"
      expect((await redElements(bank)).length, 'the failed step and the result are red').toBeGreaterThan(0); // so the check for red can see red
      await shot(bank, file('6-declined'));
      await closed;
    }, 30_000);

    it('"Not now" in the wallet: a calm ending, nothing red', async () => {
      await bank.click('.card-option[data-last4="1111"]');
      const popup = await clickAddToWallet(bank, popupSize);
      const closed = popup.waitForEvent('close');
      await popup.click('#decline');
      await popup.waitForSelector('body[data-outcome="not_now"]');
      expect(await popup.locator('#progress-title').textContent()).toBe('Not added');
      expect(await popup.locator('#wallet-steps').isHidden()).toBe(true);
      expect(await redElements(popup)).toEqual([]);
      await checkCustomerView(popup);
      await shot(popup, file('7-wallet-not-now'));

      await bankEnding('not_now');
      expect(await bank.getAttribute('body', 'data-error-code')).toBe('consent_denied');
      expect(await stepMarks(bank)).toEqual(['done', 'stopped', 'pending', 'pending']);
      expect(await bank.locator('#result').innerText()).toBe('You chose “Not now”\nNothing was added. You can add your card whenever you like.');
      expect(await redElements(bank)).toEqual([]);
      await shot(bank, file('7-not-now'));
      await closed;
    }, 30_000);

    it('the wallet window closed: a calm ending, nothing red', async () => {
      const popup = await clickAddToWallet(bank, popupSize);
      await popup.close();
      await bankEnding('window_closed');
      expect(await bank.getAttribute('body', 'data-error-code')).toBe('channel_closed');
      expect(await stepMarks(bank)).toEqual(['done', 'stopped', 'pending', 'pending']);
      expect(await bank.locator('#steps li.stopped small').textContent()).toBe('The window was closed');
      expect(await bank.locator('#result').innerText()).toBe(
        'Visa •••• 1111 wasn’t added\nThe wallet window closed before your card was added. You can add it whenever you like.',
      );
      expect(await redElements(bank)).toEqual([]);
      await shot(bank, file('8-window-closed'));
    }, 30_000);

    it('the yellow path: a step-up card, choose how to confirm, a wrong code with the tries left, the code from the sandbox inbox, card added', async () => {
      await bank.click('.card-option[data-last4="0069"]');
      expect(await bank.locator('#card-number').textContent()).toBe('•••• •••• •••• 0069');
      const popup = await clickAddToWallet(bank, popupSize);
      expect(await popup.locator('#consent-title').textContent()).toBe('Add Visa •••• 0069?');
      await popup.click('#accept');

      // The bank's part is done: the card is in the wallet, the bank still has to confirm it's the customer.
      await popup.waitForSelector('body[data-state="choosing_method"]');
      await bankEnding('pending_activation');
      expect(await bank.locator('#result').innerText()).toBe('Visa •••• 0069 is in Wallet Co\nBank A needs to finish a check before you can pay with it.');
      expect(await redElements(bank)).toEqual([]);

      // The wallet offers the ways this page can use, destinations masked by the bank.
      expect(await popup.locator('#verify-text').textContent()).toBe('Bank A wants to make sure it’s you before you can pay with Visa •••• 0069.');
      expect((await popup.locator('#methods label').allInnerTexts()).map((t) => t.trim())).toEqual(['Text message to •••• 0199', 'Email to a•••@example.com', 'Confirm in Bank A', 'Call Bank A']);
      expect(await popup.locator('#sandbox-inbox').isHidden()).toBe(true);
      await checkCustomerView(popup);
      expect(await redElements(popup)).toEqual([]);
      await shot(popup, file('9-wallet-confirm'));

      await popup.click('label[data-method-id="sms"]');
      await popup.click('#method-continue');
      await popup.waitForSelector('body[data-state="awaiting_code"]');
      expect(await popup.locator('#code-sent-to').textContent()).toBe('We sent a 6-digit code by text message to •••• 0199.');
      expect(await popup.locator('#resend').isDisabled()).toBe(true);
      expect(await popup.locator('#resend-note').textContent()).toMatch(/^You can ask for a new code in \d+ s\.$/);
      // The developer's sandbox inbox, clearly marked, holds the code the sandbox "sent".
      await popup.waitForSelector('#sandbox-inbox[data-count="1"]');
      expect(await popup.locator('#sandbox-inbox h3').innerText()).toMatch(/Sandbox inbox\s+for developers · sandbox only/i);
      const code = (await popup.locator('#inbox li code').last().textContent())!;
      expect(code).toMatch(/^[0-9]{6}$/);
      expect(await popup.locator('#inbox li').last().innerText()).toMatch(/^Text message to •••• 0199 at [0-9:]+: [0-9]{6}$/);
      await checkCustomerView(popup);
      await shot(popup, file('10-wallet-code'));

      // A wrong code: the catalogue's words and the tries left, calm (nothing red).
      const wrong = code.replace(/^./, (d) => String((Number(d) + 1) % 10));
      await popup.fill('#code', wrong);
      await popup.click('#code-submit');
      await popup.waitForSelector('#code-error:not([hidden])');
      expect(await popup.locator('#code-error').textContent()).toBe('That code doesn’t match. Check the latest code from your bank and enter it once more. 4 tries left.');
      expect(await popup.getAttribute('body', 'data-attempts-left')).toBe('4');
      expect(await redElements(popup)).toEqual([]);
      await checkCustomerView(popup);
      await shot(popup, file('11-wallet-wrong-code'));

      // The right code: the card is ready, then the window closes.
      const closed = popup.waitForEvent('close');
      await popup.fill('#code', code);
      await popup.click('#code-submit');
      await popup.waitForSelector('body[data-outcome="activated"]');
      expect(await popup.locator('#progress-title').textContent()).toBe('Card added');
      expect(await popup.locator('#wallet-result').textContent()).toBe('Visa •••• 0069 is ready to use.');
      expect(await popup.locator('#sandbox-inbox').isHidden()).toBe(true);
      expect(await redElements(popup)).toEqual([]);
      await checkCustomerView(popup);
      await shot(popup, file('12-wallet-activated'));
      await closed;
    }, 45_000);

    it('the yellow path app to app: the wallet hands the check to the bank’s page, the customer confirms there, the card works', async () => {
      await bank.click('.card-option[data-last4="0044"]');
      const popup = await clickAddToWallet(bank, popupSize);
      await popup.click('#accept');
      await popup.waitForSelector('body[data-state="choosing_method"]');
      await bankEnding('pending_activation');
      expect(await bank.getAttribute('body', 'data-app-activation')).toBe('waiting');
      expect(await bank.locator('#app-confirm').isHidden()).toBe(true);

      // The only way for this card: the bank's app, which here is the bank's page that opened the wallet.
      expect((await popup.locator('#methods label').allInnerTexts()).map((t) => t.trim())).toEqual(['Confirm in Bank A']);
      await popup.click('#method-continue');
      await popup.waitForSelector('body[data-state="awaiting_issuer"]');
      expect(await popup.locator('#app-title').textContent()).toBe('Confirm in Bank A');
      expect(await popup.locator('#app-text').textContent()).toBe('We’ve asked Bank A to confirm it’s you. Finish in the Bank A window, and we’ll add Visa •••• 0044 as soon as they have.');
      expect(await redElements(popup)).toEqual([]);
      await checkCustomerView(popup);
      await shot(popup, file('13-wallet-confirm-in-bank'));

      // The bank's page got the wallet's activation invocation and asks its signed-in customer.
      await bank.waitForSelector('body[data-app-activation="asking"]');
      expect(await bank.locator('#app-confirm').isVisible()).toBe(true);
      expect(await bank.locator('#app-confirm-title').textContent()).toBe('Confirm it’s you');
      expect(await bank.locator('#app-confirm-text').textContent()).toBe(
        'Wallet Co asks Bank A to confirm it’s you before you can pay with Visa •••• 0044. You’re signed in, so one tap does it.',
      );
      expect(await inView(bank, '#app-confirm'), 'the question is in view').toBe(true);
      expect(await refusedCodes(bank)).toEqual([]);
      expect(await redElements(bank)).toEqual([]);
      await checkCustomerView(bank);
      await shot(bank, file('13-bank-confirm'));

      // One tap: the bank's backend activates the token; the wallet learns it from the token service, then closes.
      const closed = popup.waitForEvent('close');
      await bank.click('#app-confirm-yes');
      await bank.waitForSelector('body[data-outcome="activated"]');
      expect(await bank.getAttribute('body', 'data-app-activation')).toBe('active');
      expect(await bank.locator('#result').innerText()).toBe('Visa •••• 0044 is ready in Wallet Co\nYou confirmed it’s you. You can pay with it now.');
      expect(await bank.locator('#app-confirm').isHidden()).toBe(true);
      expect(await redElements(bank)).toEqual([]);
      await checkCustomerView(bank);
      await shot(bank, file('14-bank-activated'));

      await popup.waitForSelector('body[data-outcome="activated"]');
      expect(await popup.locator('#progress-title').textContent()).toBe('Card added');
      expect(await popup.locator('#wallet-result').textContent()).toBe('Visa •••• 0044 is ready to use.');
      expect(await redElements(popup)).toEqual([]);
      await checkCustomerView(popup);
      await shot(popup, file('14-wallet-activated-in-bank'));
      await closed;

      // For developers: the invocation's token and correlation id, under Details.
      await bank.click('#details summary');
      expect(await bank.locator('#details').innerText()).toMatch(/Activation invocation\s+tok_[A-Za-z0-9_-]+, method app, from wallet-co/);
      expect(await bank.locator('#details').innerText()).toMatch(/Correlation id\s+cor_/);
      await bank.click('#details summary');
    }, 45_000);

    it('the yellow path app to app, "Not now" at the bank: nothing is activated, a calm ending', async () => {
      // Another device (a fresh profile): the card is not in its wallet yet.
      const other = await newContext(viewport);
      try {
        const page = await other.newPage();
        await page.goto(example.issuerUrl);
        await openBank(page);
        await page.click('.card-option[data-last4="0044"]');
        const popup = await clickAddToWallet(page, popupSize);
        await popup.click('#accept');
        await popup.waitForSelector('body[data-state="choosing_method"]');
        await page.waitForSelector('body[data-outcome="pending_activation"]');
        await popup.click('#method-continue');
        await page.waitForSelector('body[data-app-activation="asking"]');
        await page.click('#app-confirm-no');
        await page.waitForSelector('body[data-outcome="not_confirmed"]');
        expect(await page.getAttribute('body', 'data-app-activation')).toBe('declined');
        expect(await page.locator('#result').innerText()).toBe('Visa •••• 0044 is in Wallet Co\nYou didn’t confirm it’s you yet. You can do it later in Wallet Co.');
        expect(await redElements(page)).toEqual([]);
        await checkCustomerView(page);
        // The wallet still waits: the token is still pending.
        expect(await popup.getAttribute('body', 'data-state')).toBe('awaiting_issuer');
        await popup.close();
      } finally {
        await other.close();
      }
    }, 45_000);
  });
}

/** The bank's wallet panel, per card: last 4, place (`none`/`other`/`added`/`unknown`), the states, the line, its Add button. */
function walletPanel(page: Page): Promise<{ last4: string; place: string; thisDevice: string; otherDevices: string; text: string; add: string | null }[]> {
  return page.locator('#wallet-cards li').evaluateAll((items) =>
    items.map((li) => {
      const el = li as HTMLElement;
      return {
        last4: el.dataset.last4 ?? '',
        place: el.dataset.place ?? '',
        thisDevice: el.dataset.thisDevice ?? '',
        otherDevices: el.dataset.otherDevices ?? '',
        text: el.querySelector('small')?.textContent ?? '',
        add: el.querySelector('button')?.textContent ?? null,
      };
    }),
  );
}

/** Clicks "Check Wallet Co": the wallet opens, answers the signed status query, and the bank closes it again. */
async function checkWallet(page: Page, popupSize: { width: number; height: number }): Promise<void> {
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#check-wallet')]);
  await popup.setViewportSize(popupSize).catch(() => undefined); // it may be gone already
  await page.waitForSelector('body[data-wallet-check="answered"]');
  if (!popup.isClosed()) await popup.waitForEvent('close');
}

/** A several-card list (the wallet's pick list or its per-card endings): last 4 and the line under each. */
function cardLines(page: Page, selector: string): Promise<string[]> {
  return page.locator(`${selector} li`).evaluateAll((items) => items.map((li) => `${(li as HTMLElement).dataset.last4}: ${li.querySelector('small')?.textContent ?? ''}`));
}

for (const name of Object.keys(VIEWPORTS) as ViewportName[]) {
  const viewport = VIEWPORTS[name];
  const popupSize = name === 'desktop' ? POPUP_DESKTOP : viewport;
  const file = (screen: string) => `${name}-${screen}`;

  // A fresh example: its token service knows only the card put on the watch at start.
  describe(`several cards, where they are, wallet-initiated, ${name} (${viewport.width} px)`, () => {
    let fresh: BrowserExample;
    let context: BrowserContext;
    let bank: Page;

    beforeAll(async () => {
      fresh = await startBrowserExample({ walletCloseDelayMs: 1500 });
      context = await newContext(viewport);
      bank = await context.newPage();
      await bank.goto(fresh.issuerUrl);
      await openBank(bank);
    }, 60_000);
    afterAll(async () => {
      await context?.close();
      await fresh?.close();
    });

    it('the bank asks the wallet where its cards are: the card on the watch is on another device, the others nowhere, each with its Add', async () => {
      expect((await walletPanel(bank)).every((row) => row.place === 'unknown' && row.add === null)).toBe(true);
      await checkWallet(bank, popupSize);
      const rows = await walletPanel(bank);
      expect(rows.map((row) => row.last4)).toEqual(['1111', '0002', '0010', '0069', '0028', '0044']);
      expect(rows.find((row) => row.last4 === '0010')).toEqual({
        last4: '0010',
        place: 'other',
        thisDevice: 'not_added',
        otherDevices: 'added',
        text: 'In Wallet Co on another device, ready to pay',
        add: 'Add to this device',
      });
      for (const row of rows.filter((r) => r.last4 !== '0010')) {
        expect(row).toMatchObject({ place: 'none', thisDevice: 'not_added', otherDevices: 'not_added', text: 'Not in Wallet Co', add: 'Add' });
      }
      await checkCustomerView(bank);
      await shot(bank, file('15-bank-wallet-status'));
    }, 30_000);

    it('both debit cards in one session: the wallet shows both, the sandbox bank approves one and declines the other, both outcomes shown', async () => {
      const [popup] = await Promise.all([bank.waitForEvent('popup'), bank.click('#add-both')]);
      await popup.setViewportSize(popupSize);
      await popup.waitForSelector('body[data-state="awaiting_consent"]');
      // One invocation, both cards: the wallet lists them, with their place in this wallet, both ticked.
      expect(await popup.locator('#consent-title').textContent()).toBe('Add cards from Bank A?');
      expect(await popup.locator('#verified').textContent()).toBe('✓ Verified: these cards are from Bank A');
      expect(await popup.locator('#c-card').isHidden(), 'no single card picture for several cards').toBe(true);
      expect(await cardLines(popup, '#pick-list')).toEqual(['1111: Not in your wallet yet', '0002: Not in your wallet yet']);
      expect(await popup.locator('#pick-list input:checked').count()).toBe(2);
      await checkCustomerView(popup);
      await shot(popup, file('16-wallet-pick-two'));

      const closed = popup.waitForEvent('close');
      await popup.click('#accept');
      await popup.waitForSelector('body[data-outcome="partial"]');
      expect(await popup.locator('#progress-title').textContent()).toBe('1 of 2 cards added');
      const walletLines = await cardLines(popup, '#wallet-accounts');
      expect(walletLines[0]).toBe('1111: Added. Ready to use.');
      expect(walletLines[1]).toMatch(/^0002: Not added\. \S/);
      await checkCustomerView(popup);
      await shot(popup, file('17-wallet-both-outcomes'));

      // The bank's page: one session, a partial success, and each card's own line.
      await bank.waitForSelector('body[data-outcome="partial"]');
      expect(await bank.locator('#result').innerText()).toBe('1 of 2 cards added to Wallet Co\nEach card’s status is below.');
      const outcomes = await bank.locator('#account-outcomes li').evaluateAll((items) =>
        items.map((li) => `${(li as HTMLElement).dataset.last4} ${(li as HTMLElement).dataset.outcome}: ${li.textContent}`),
      );
      expect(outcomes[0]).toBe('1111 added: Visa •••• 1111Added. You can pay with it now.');
      expect(outcomes[1]).toMatch(/^0002 declined: Visa •••• 0002Not added\. \S/);
      expect(await inView(bank, '#account-outcomes')).toBe(true);
      await checkCustomerView(bank);
      await shot(bank, file('17-bank-both-outcomes'));
      await closed;
    }, 45_000);

    it('after the add: the approved card reads "on this device" and its Add is gone; the declined one keeps its Add', async () => {
      await checkWallet(bank, popupSize);
      const rows = await walletPanel(bank);
      expect(rows.find((row) => row.last4 === '1111')).toEqual({
        last4: '1111',
        place: 'added',
        thisDevice: 'added',
        otherDevices: 'not_added',
        text: 'In Wallet Co on this device, ready to pay',
        add: null,
      });
      expect(rows.find((row) => row.last4 === '0002')).toMatchObject({ place: 'none', thisDevice: 'not_added', add: 'Add' });
      expect(rows.find((row) => row.last4 === '0010')).toMatchObject({ place: 'other', thisDevice: 'not_added', otherDevices: 'added', add: 'Add to this device' });
      await checkCustomerView(bank);
      await shot(bank, file('18-bank-wallet-status-after'));
    }, 30_000);

    it('wallet-initiated: the wallet asks Bank A for cards, the customer picks the card on the watch, it is added on this device', async () => {
      const home = await context.newPage();
      await home.goto(fresh.walletHomeUrl);
      await home.waitForSelector('body[data-state="home"]');
      expect(await home.locator('.add-from-bank').textContent()).toBe('Add a card from Bank A');
      await checkCustomerView(home);
      await shot(home, file('19-wallet-home'));

      const [bankWindow] = await Promise.all([home.waitForEvent('popup'), home.click('.add-from-bank')]);
      expect(new URL(bankWindow.url()).origin).toBe(fresh.issuerOrigin);
      await home.waitForSelector('body[data-state="awaiting_consent"]');
      // Bank A's signed list: every card, with its place in this wallet; the one already here is not ticked.
      expect(await home.locator('#verified').textContent()).toBe('✓ Verified: these cards are from Bank A');
      expect(await cardLines(home, '#pick-list')).toEqual([
        '1111: Already on this device',
        '0002: Not in your wallet yet',
        '0010: On another of your devices',
        '0069: Not in your wallet yet',
        '0028: Not in your wallet yet',
        '0044: Not in your wallet yet',
      ]);
      expect(await home.locator('#pick-list li[data-last4="1111"] input').isChecked()).toBe(false);
      await bankWindow.waitForSelector('body[data-state="invoked"]');
      await checkCustomerView(bankWindow);
      await shot(bankWindow, file('20-bank-window-for-wallet'));
      // The customer picks only the card that is on the watch.
      for (const last4 of ['0002', '0069', '0028', '0044']) await home.uncheck(`#pick-list li[data-last4="${last4}"] input`);
      await checkCustomerView(home);
      await shot(home, file('20-wallet-pick-from-bank'));

      await home.click('#accept');
      await home.waitForSelector('body[data-outcome="added"]');
      expect(await home.locator('#progress-title').textContent()).toBe('Card added');
      const lines = await cardLines(home, '#wallet-accounts');
      expect(lines.find((l) => l.startsWith('0010'))).toBe('0010: Added. Ready to use.');
      expect(lines.filter((l) => !l.startsWith('0010')).every((l) => l.endsWith(': Not chosen'))).toBe(true);
      await checkCustomerView(home);
      await shot(home, file('21-wallet-added-from-bank'));
      if (!bankWindow.isClosed()) await bankWindow.waitForEvent('close');

      // The bank's panel: now on this device as well as on the watch, so no Add.
      await checkWallet(bank, popupSize);
      expect((await walletPanel(bank)).find((row) => row.last4 === '0010')).toEqual({
        last4: '0010',
        place: 'added',
        thisDevice: 'added',
        otherDevices: 'added',
        text: 'In Wallet Co on this device, ready to pay, and on another device',
        add: null,
      });
      await shot(bank, file('21-bank-wallet-status-both-devices'));
      await home.close();
    }, 60_000);

    it('another issuer learns nothing: Bank B asks about the same account ids (signed with its key) and every card reads not in the wallet', async () => {
      const other = await context.newPage();
      await other.goto(fresh.secondIssuerUrl);
      await other.waitForSelector('body[data-state="ready"]');
      await checkWallet(other, popupSize);
      const rows = await walletPanel(other);
      expect(rows).toHaveLength(6);
      for (const row of rows) expect(row).toMatchObject({ thisDevice: 'not_added', otherDevices: 'not_added', text: 'Not in Wallet Co' });
      // Yet the wallet holds Bank A's cards under those very ids (Bank A's own answer just before).
      expect((await walletPanel(bank)).filter((row) => row.thisDevice === 'added').map((row) => row.last4)).toEqual(['1111', '0010']);
      await checkCustomerView(other);
      await shot(other, file('22-bank-b-learns-nothing'));
      await other.close();
    }, 30_000);
  });
}

describe('browser example: bank page and wallet popup on two origins', () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await newContext({ width: 1100, height: 760 });
  });
  afterAll(() => context?.close());

  it('the origins differ: bank, wallet and token service', () => {
    const origins = new Set([example.issuerOrigin, example.walletOrigin, new URL(example.tokenServiceUrl).origin, attacker.origin]);
    expect(origins.size).toBe(4);
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
    // The customer is not alarmed: the refusals are listed under "Details" only.
    expect(await bank.locator('#details-summary').textContent()).toBe('Details (3 refused messages)');
    expect(await visibleText(bank)).not.toContain('origin_rejected');

    // The real flow then completes, with the real token, not the forged one.
    await popup.click('#accept');
    await bank.waitForSelector('body[data-state="completed"]');
    const tokenReferenceId = await bank.getAttribute('body', 'data-token-reference-id');
    expect(tokenReferenceId).toMatch(/^tok_[A-Za-z0-9_-]+$/);
    expect(tokenReferenceId).not.toBe('tok_forged');
    await bank.close();
    await evil.close();
  }, 30_000);

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
