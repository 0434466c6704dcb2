// The wallet's page, opened by the bank in a popup. It talks to the bank's
// page only through `window.opener` (origin allow-listed), asks the user,
// and calls the token service over HTTP (CORS) as the wallet provider.
import type { Jwks } from '@pushprov/protocol';
import { type ConsentPrompt, type WalletEvent, type WalletSessionState, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { createOpenerIssuerChannel } from '@pushprov/wallet-sdk/browser';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import type { WalletPageConfig } from '../start-browser-example.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const VIEWS = ['waiting', 'consent', 'progress'] as const;
const STEPS: WalletSessionState[] = ['sending_identifiers', 'waiting_for_request', 'submitting', 'storing', 'sending_result'];

function show(view: (typeof VIEWS)[number]): void {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
}

function refused(code: string, message: string): void {
  $('security').hidden = false;
  const li = document.createElement('li');
  li.textContent = `${code}: ${message}`;
  li.dataset.code = code;
  $('refused').append(li);
}

function renderStep(state: WalletSessionState): void {
  const index = STEPS.indexOf(state);
  if (index < 0) return;
  $('wallet-steps')
    .querySelectorAll<HTMLLIElement>('li')
    .forEach((li, i) => {
      li.className = i < index ? 'done' : i === index ? 'active' : '';
    });
}

function finishSteps(ok: boolean): void {
  for (const li of $('wallet-steps').querySelectorAll<HTMLLIElement>('li')) {
    if (ok) li.className = 'done';
    else if (li.className === 'active') li.className = 'failed';
  }
}

/** This browser's device id in the wallet, kept across visits. */
function deviceId(): string {
  const key = 'wallet-co.device-id';
  let id = localStorage.getItem(key);
  if (!id) {
    id = `browser-${crypto.randomUUID().slice(0, 8)}`;
    localStorage.setItem(key, id);
  }
  return id;
}

/** Shows the consent view and resolves with the user's answer (false when the session gives up first). */
function askUser(prompt: ConsentPrompt, signal: AbortSignal): Promise<boolean> {
  const network = prompt.account.network === 'visa' ? 'Visa' : prompt.account.network;
  const issuer = prompt.issuerName ?? prompt.issuerId;
  $('consent-from').textContent = `From ${issuer}`;
  $('c-issuer').textContent = issuer;
  $('c-product').textContent = prompt.account.productName ?? '';
  $('c-number').textContent = `•••• ${prompt.account.last4}`;
  $('c-network').textContent = network.toUpperCase();
  $('consent-title').textContent = `Add ${network} •••• ${prompt.account.last4}?`;
  const verified = $('verified');
  verified.className = `verified ${prompt.verified ? 'yes' : 'no'}`;
  verified.textContent = prompt.verified ? `✓ Verified: signed by ${prompt.issuerId}` : 'Not verified';
  show('consent');
  document.body.dataset.state = 'awaiting_consent';
  const accept = $<HTMLButtonElement>('accept');
  const decline = $<HTMLButtonElement>('decline');
  return new Promise((resolve) => {
    const answer = (value: boolean) => {
      accept.onclick = decline.onclick = null;
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => answer(false);
    signal.addEventListener('abort', onAbort, { once: true });
    accept.onclick = () => answer(true);
    decline.onclick = () => answer(false);
  });
}

function onEvent(event: WalletEvent): void {
  if (event.type === 'error') {
    refused(event.error.code, event.error.message);
  } else if (event.type === 'state') {
    if (STEPS.includes(event.state)) {
      show('progress');
      document.body.dataset.state = event.state;
      renderStep(event.state);
    }
  }
}

$('origin').textContent = location.origin;
if (!window.opener) {
  $('waiting-text').textContent = 'Open this page from your bank’s app: it is the bank that starts adding a card.';
}

const config = (await (await fetch('/config.json')).json()) as WalletPageConfig;
$('who').textContent = config.walletAccountId;

const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: config.allowedIssuerOrigins });
document.body.dataset.listening = 'true';
const tokenStore = createMemoryTokenStore();
const wallet = createWallet({
  identity: () => ({ walletProviderId: config.walletProviderId, walletAccountId: config.walletAccountId, deviceId: deviceId() }),
  consent: (prompt, { signal }) => askUser(prompt, signal),
  tokenService: createHttpTokenServiceClient({
    baseUrl: config.tokenServiceUrl,
    // A fresh client assertion from the wallet's own server for every attempt.
    auth: { getToken: async () => (await fetch(config.assertionPath, { method: 'POST' })).text() },
  }),
  tokenStore,
  trustedIssuers: config.trustedIssuers as Record<string, Jwks>,
  deviceKey: 'generate',
});

const outcome = await wallet.handleInvocation(channel, { onEvent, closeChannelOnEnd: true });
document.body.dataset.state = outcome.status;
const result = $('wallet-result');
result.hidden = false;
if ('token' in outcome) {
  finishSteps(true);
  $('progress-title').textContent = 'Card added';
  result.className = 'result ok';
  result.textContent = `Token •••• ${outcome.token.tokenLast4} is ready on this device.`;
} else {
  document.body.dataset.errorCode = outcome.error.code;
  if (outcome.status === 'rejected') {
    // No session began (nothing was sent back): say so where the user is looking.
    result.hidden = true;
    $('view-waiting').querySelector('.spinner')?.remove();
    $('waiting-text').textContent = `No card request was accepted (${outcome.error.code}).`;
  } else {
    finishSteps(false);
    show('progress');
    $('progress-title').textContent = 'The card was not added';
    result.className = 'result bad';
    result.textContent = `${outcome.error.code}: ${outcome.error.message}`;
  }
}
channel.close();
