// The wallet's page, opened by the bank in a popup. It talks to the bank's
// page only through `window.opener` (origin allow-listed), asks the user,
// and calls the token service over HTTP (CORS) as the wallet provider.
//
// It shows its own ending (./flow-view.ts, the error wording from
// `@pushprov/protocol/messages`), then closes its window. Ids and codes are
// for developers: they sit in the "Details" toggle.
import { type JwkPair, type Jwks, generateEncryptionKey } from '@pushprov/protocol';
import { type ConsentPrompt, type WalletEvent, type WalletSessionState, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { createOpenerIssuerChannel } from '@pushprov/wallet-sdk/browser';
import { type FetchLike, createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import type { WalletPageConfig } from '../start-browser-example.js';
import { type Tone, cardName, walletEnding } from './flow-view.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const VIEWS = ['waiting', 'consent', 'progress'] as const;
const STEPS: WalletSessionState[] = ['sending_identifiers', 'waiting_for_request', 'submitting', 'storing', 'sending_result'];
const WALLET_NAME = 'Wallet Co';

function show(view: (typeof VIEWS)[number]): void {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
}

// ── The developer details.
const facts = new Map<string, string>();
function fact(label: string, value: string): void {
  facts.set(label, value);
  $('facts').replaceChildren(
    ...[...facts].flatMap(([term, text]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = text;
      return [dt, dd];
    }),
  );
}

function refused(code: string, message: string): void {
  $('security').hidden = false;
  const li = document.createElement('li');
  li.textContent = `${code}: ${message}`;
  li.dataset.code = code;
  $('refused').append(li);
  const count = $('refused').children.length;
  $('details-summary').textContent = `Details (${count} refused ${count === 1 ? 'message' : 'messages'})`;
}

// ── Progress and ending.
let reached = -1;
function renderStep(state: WalletSessionState): void {
  const index = STEPS.indexOf(state);
  if (index < 0) return;
  reached = index;
  $('wallet-steps')
    .querySelectorAll<HTMLLIElement>('li')
    .forEach((li, i) => {
      li.className = i < index ? 'done' : i === index ? 'active' : '';
    });
}

function finishSteps(tone: Tone): void {
  $('wallet-steps')
    .querySelectorAll<HTMLLIElement>('li')
    .forEach((li, i) => {
      if (tone === 'ok') li.className = 'done';
      else if (i === reached) li.className = tone === 'bad' ? 'failed' : 'stopped';
    });
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

/**
 * This device's encryption key, kept across visits like the device id, so the
 * token service can tell a card that is already on this device (it answers
 * `200` with the existing token) from a new add (`201`). A real wallet keeps
 * this key in secure hardware, not in localStorage.
 */
async function deviceKey(): Promise<JwkPair> {
  const key = 'wallet-co.device-key';
  const stored = localStorage.getItem(key);
  if (stored) return JSON.parse(stored) as JwkPair;
  const pair = await generateEncryptionKey();
  localStorage.setItem(key, JSON.stringify(pair));
  return pair;
}

let prompted: ConsentPrompt | undefined;
const bankName = () => (prompted?.verified && prompted.issuerName ? prompted.issuerName : 'your bank');

/** Shows the consent view and resolves with the user's answer (false when the session gives up first). */
function askUser(prompt: ConsentPrompt, signal: AbortSignal): Promise<boolean> {
  prompted = prompt;
  const network = prompt.account.network === 'visa' ? 'Visa' : prompt.account.network;
  const issuer = bankName();
  $('consent-from').textContent = `From ${issuer}`;
  $('c-issuer').textContent = prompt.verified && prompt.issuerName ? prompt.issuerName : '';
  $('c-product').textContent = prompt.account.productName ?? '';
  $('c-number').textContent = `•••• ${prompt.account.last4}`;
  $('c-network').textContent = network.toUpperCase();
  $('consent-title').textContent = `Add ${cardName(prompt.account)}?`;
  const verified = $('verified');
  verified.className = `verified ${prompt.verified ? 'yes' : 'no'}`;
  verified.textContent = prompt.verified ? `✓ Verified: this card is from ${issuer}` : 'Not verified';
  fact('Bank (issuer id)', `${prompt.issuerId}${prompt.verified ? ', signature verified' : ', not verified'}`);
  fact('Session', prompt.sessionId);
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

if (!window.opener) {
  $('waiting-text').textContent = 'Open this page from your bank’s app: it is the bank that starts adding a card.';
}

const config = (await (await fetch('/config.json')).json()) as WalletPageConfig;
$('who').textContent = config.walletUserName;
fact('Wallet account', config.walletAccountId);
fact('Wallet provider', config.walletProviderId);
fact('Device', deviceId());
fact('Wallet origin', location.origin);

// The token service's status for the submission: 201 for a new token, 200 for the card already on this device.
let submitStatus: number | undefined;
const watchSubmit: FetchLike = async (url, init) => {
  const response = await fetch(url, init);
  if (init.method === 'POST' && url.endsWith('/v1/provisioning-requests')) submitStatus = response.status;
  return response;
};

const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: config.allowedIssuerOrigins });
const tokenStore = createMemoryTokenStore();
const wallet = createWallet({
  identity: () => ({ walletProviderId: config.walletProviderId, walletAccountId: config.walletAccountId, deviceId: deviceId() }),
  consent: (prompt, { signal }) => askUser(prompt, signal),
  tokenService: createHttpTokenServiceClient({
    baseUrl: config.tokenServiceUrl,
    // A fresh client assertion from the wallet's own server for every attempt.
    auth: { getToken: async () => (await fetch(config.assertionPath, { method: 'POST' })).text() },
    fetch: watchSubmit,
  }),
  tokenStore,
  trustedIssuers: config.trustedIssuers as Record<string, Jwks>,
  deviceKey: await deviceKey(),
});
document.body.dataset.listening = 'true';

const outcome = await wallet.handleInvocation(channel, { onEvent, closeChannelOnEnd: true });
document.body.dataset.state = outcome.status;
channel.close();

if (outcome.status === 'rejected') {
  // No session began (nothing was sent back): say so where the user is looking, and leave the window open.
  document.body.dataset.errorCode = outcome.error.code;
  fact('Refused', `${outcome.error.code}: ${outcome.error.message}`);
  $('view-waiting').querySelector('.spinner')?.remove();
  $('view-waiting').querySelector('h1')!.textContent = 'No card to add';
  $('waiting-text').textContent = walletEnding({ card: 'this card', bank: 'your bank', wallet: WALLET_NAME }, { status: 'failed', code: outcome.error.code }).message;
} else {
  const account = prompted?.account ?? { network: 'card', last4: '····' };
  const names = { card: cardName(account), bank: bankName(), wallet: WALLET_NAME };
  const added = 'token' in outcome;
  const ending = walletEnding(names, added ? { status: outcome.status, alreadyAdded: submitStatus === 200 } : { status: outcome.status, code: outcome.error.code });
  document.body.dataset.outcome = ending.outcome;
  if (added) {
    fact('Token reference', outcome.token.tokenReferenceId);
    fact('Token', `•••• ${outcome.token.tokenLast4}, ${outcome.token.status}`);
    fact('Token service answer', submitStatus === 200 ? '200: this card was already on this device' : `${submitStatus ?? '—'}: a new token`);
  } else {
    document.body.dataset.errorCode = outcome.error.code;
    fact('Error', `${outcome.error.code}: ${outcome.error.message}`);
  }
  show('progress');
  finishSteps(ending.tone);
  $('wallet-steps').hidden = !ending.showSteps;
  const mark = $('ending-mark');
  mark.hidden = false;
  mark.className = `ending-mark ${ending.tone}`;
  $('progress-title').textContent = ending.title;
  const result = $('wallet-result');
  result.hidden = false;
  result.className = `result ${ending.tone}`;
  result.textContent = ending.message;
  // The ending stays a moment, then the window closes (or at once with "Done").
  $('closing').hidden = false;
  $('done').onclick = () => window.close();
  setTimeout(() => window.close(), config.closeDelayMs);
}
