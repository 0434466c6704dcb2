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
import { deviceKeyFromJwk } from '@pushprov/wallet-sdk/device-key';
import { type PendingActivation, createActivations } from '@pushprov/wallet-sdk/activation';
import { type TokenServiceFetch, createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import type { WalletPageConfig } from '../start-browser-example.js';
import { type MethodView, type Tone, cardName, codeSentText, methodLabel, verificationProblem, walletAwaitingBank, walletEnding } from './flow-view.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const VIEWS = ['waiting', 'consent', 'progress', 'verify', 'code', 'app', 'call'] as const;
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
const watchSubmit: TokenServiceFetch = async (url, init) => {
  const response = await fetch(url, init);
  if (init.method === 'POST' && url.endsWith('/v1/provisioning-requests')) submitStatus = response.status;
  return response;
};

const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: config.allowedIssuerOrigins });
const tokenStore = createMemoryTokenStore();
const tokenService = createHttpTokenServiceClient({
  baseUrl: config.tokenServiceUrl,
  // A fresh client assertion from the wallet's own server for every attempt.
  auth: { getToken: async () => (await fetch(config.assertionPath, { method: 'POST' })).text() },
  fetch: watchSubmit,
});
const wallet = createWallet({
  identity: () => ({ walletProviderId: config.walletProviderId, walletAccountId: config.walletAccountId, deviceId: deviceId() }),
  consent: (prompt, { signal }) => askUser(prompt, signal),
  tokenService,
  tokenStore,
  trustedIssuers: config.trustedIssuers as Record<string, Jwks>,
  deviceKey: deviceKeyFromJwk(await deviceKey()),
});
document.body.dataset.listening = 'true';

const outcome = await wallet.handleInvocation(channel, { onEvent, closeChannelOnEnd: true });
document.body.dataset.state = outcome.status;
// The bank page's origin, learnt from its invocation: an issuer_app method talks back to it (spec section 4.17).
const issuerOrigin = channel.issuerOrigin;
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
  // The yellow path: the bank wants its customer confirmed before the card works.
  let activated = false;
  if (outcome.status === 'pending_activation') {
    fact('Token reference', outcome.token.tokenReferenceId);
    activated = await confirmCard(outcome.token.tokenReferenceId, names);
  }
  const ending = walletEnding(
    names,
    activated ? { status: 'provisioned' } : added ? { status: outcome.status, alreadyAdded: submitStatus === 200 } : { status: outcome.status, code: outcome.error.code },
  );
  document.body.dataset.outcome = activated ? 'activated' : ending.outcome;
  if (added) {
    fact('Token reference', outcome.token.tokenReferenceId);
    fact('Token', `•••• ${outcome.token.tokenLast4}, ${outcome.token.status}`);
    fact('Token service answer', submitStatus === 200 ? '200: this card was already on this device' : `${submitStatus ?? '—'}: a new token`);
  } else {
    document.body.dataset.errorCode = outcome.error.code;
    fact('Error', `${outcome.error.code}: ${outcome.error.message}`);
  }
  $('sandbox-inbox').hidden = true;
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

// ── The yellow path: choose how to confirm, type the code (or call the bank), until the token is active.

/** Runs the activation of a pending token to its end. Resolves true once the card is ready to use. */
async function confirmCard(tokenReferenceId: string, names: { card: string; bank: string }): Promise<boolean> {
  // App to app: the activation invocation goes back to the bank's page that opened this window, on a new channel pinned to its origin.
  let bankChannel: ReturnType<typeof createOpenerIssuerChannel> | undefined;
  const activations = createActivations({
    tokenService,
    tokenStore,
    walletProviderId: config.walletProviderId,
    ...(issuerOrigin !== undefined && {
      issuerChannel: () => (bankChannel ??= createOpenerIssuerChannel({ allowedIssuerOrigins: config.allowedIssuerOrigins, issuerOrigin })),
    }),
    onEvent: (event) => {
      document.body.dataset.activation = event.snapshot.state;
      if (event.error) fact('Last refused step', `${event.error.code}: ${event.error.message}`);
    },
  });
  const activation = await activations.resume(tokenReferenceId);
  $('verify-from').textContent = `From ${names.bank}`;
  $('verify-text').textContent = `${names.bank} wants to make sure it’s you before you can pay with ${names.card}.`;
  for (;;) {
    const method = await chooseMethod(activation, names.bank, issuerOrigin !== undefined);
    if (method.type === 'issuer_app') {
      const waiting = walletAwaitingBank(names);
      $('app-title').textContent = waiting.title;
      $('app-text').textContent = waiting.message;
      show('app');
      document.body.dataset.state = 'awaiting_issuer';
      document.body.dataset.methodType = 'issuer_app';
      await activation.waitUntilActive({ initialIntervalMs: 500, maxIntervalMs: 2_000 });
      bankChannel?.close();
      return true;
    }
    if (method.type === 'customer_service') {
      $('call-title').textContent = `Call ${names.bank}`;
      $('call-text').textContent = `Call ${names.bank} on ${method.phoneNumber ?? 'the number on your card'}. We’ll finish adding ${names.card} as soon as they’ve confirmed it’s you.`;
      show('call');
      document.body.dataset.state = 'awaiting_issuer';
      await activation.waitUntilActive({ initialIntervalMs: 1_000, maxIntervalMs: 5_000 });
      return true;
    }
    if ((await enterCode(activation, method)) === 'active') return true;
  }
}

/**
 * Shows the ways to confirm and resolves with the one chosen, once the wallet
 * has acted on it (a code sent, the bank's page asked). `canReachBank`: this
 * window was opened by the bank's page, which the bank-app method talks to.
 */
function chooseMethod(activation: PendingActivation, bank: string, canReachBank: boolean): Promise<MethodView> {
  const snapshot = activation.snapshot();
  const locked = new Set(snapshot.lockedMethodIds);
  const methods = snapshot.methods.filter((m) => m.type !== 'issuer_app' || canReachBank);
  const fieldset = $('methods');
  fieldset.querySelectorAll('label').forEach((label) => label.remove());
  for (const [i, method] of methods.entries()) {
    const label = document.createElement('label');
    label.className = `method${locked.has(method.id) ? ' unavailable' : ''}`;
    label.dataset.methodId = method.id;
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'method';
    input.value = method.id;
    input.disabled = locked.has(method.id);
    input.checked = i === methods.findIndex((m) => !locked.has(m.id));
    const text = document.createElement('span');
    text.textContent = methodLabel(method, bank);
    if (locked.has(method.id)) {
      const note = document.createElement('small');
      note.textContent = 'Not available any more for this card';
      text.append(note);
    }
    label.append(input, text);
    fieldset.append(label);
  }
  show('verify');
  document.body.dataset.state = 'choosing_method';
  const button = $<HTMLButtonElement>('method-continue');
  button.disabled = false;
  return new Promise((resolve) => {
    button.onclick = async () => {
      const picked = fieldset.querySelector<HTMLInputElement>('input:checked')?.value;
      const method = methods.find((m) => m.id === picked);
      if (!method) return;
      button.disabled = true;
      $('verify-error').hidden = true;
      try {
        await activation.chooseMethod(method.id);
        button.onclick = null;
        resolve(method);
      } catch (error) {
        showProblem('verify-error', error);
        button.disabled = false;
      }
    };
  });
}

/** The code entry for an OTP method: resolves 'active', or 'choose' to pick another way. */
function enterCode(activation: PendingActivation, method: MethodView): Promise<'active' | 'choose'> {
  const input = $<HTMLInputElement>('code');
  const submit = $<HTMLButtonElement>('code-submit');
  const resend = $<HTMLButtonElement>('resend');
  const note = $('resend-note');
  const length = activation.snapshot().code?.length ?? 6;
  $('code-sent-to').textContent = codeSentText(method, length);
  input.value = '';
  input.maxLength = length;
  $('code-error').hidden = true;
  show('code');
  document.body.dataset.state = 'awaiting_code';
  showInbox(activation.tokenReferenceId);
  input.focus();
  // "Send a new code" works once the cooldown has passed.
  const tick = () => {
    const wait = Math.ceil(((activation.snapshot().code?.resendAfter ?? 0) * 1000 - Date.now()) / 1000);
    resend.disabled = wait > 0;
    note.textContent = wait > 0 ? `You can ask for a new code in ${wait} s.` : 'Didn’t get it? You can ask for a new code.';
  };
  tick();
  const timer = setInterval(tick, 500);
  return new Promise((resolve) => {
    const done = (value: 'active' | 'choose') => {
      clearInterval(timer);
      submit.onclick = resend.onclick = $('other-way').onclick = null;
      resolve(value);
    };
    submit.onclick = async () => {
      submit.disabled = true;
      $('code-error').hidden = true;
      document.body.dataset.state = 'checking_code';
      try {
        await activation.submitCode(input.value.trim());
        done('active');
      } catch (error) {
        document.body.dataset.state = 'awaiting_code';
        showProblem('code-error', error);
        const left = (error as { details?: { attemptsLeft?: unknown } }).details?.attemptsLeft;
        if (typeof left === 'number') document.body.dataset.attemptsLeft = String(left);
        if ((error as { code?: string }).code === 'verification_attempts_exhausted') {
          done('choose');
          showProblem('verify-error', error);
        }
        input.select();
      } finally {
        submit.disabled = false;
      }
    };
    resend.onclick = async () => {
      resend.disabled = true;
      $('code-error').hidden = true;
      try {
        await activation.resendCode();
        showInbox(activation.tokenReferenceId);
        input.value = '';
      } catch (error) {
        showProblem('code-error', error);
      }
      tick();
    };
    $('other-way').onclick = () => done('choose');
  });
}

/** Shows the customer's words for a refused step (from `@pushprov/protocol/messages`), the code under Details. */
function showProblem(id: string, error: unknown): void {
  const code = (error as { code?: string }).code ?? 'internal_error';
  const left = (error as { details?: { attemptsLeft?: unknown } }).details?.attemptsLeft;
  const box = $(id);
  box.textContent = verificationProblem(code, typeof left === 'number' ? left : undefined);
  box.hidden = false;
  box.dataset.code = code;
}

/** The developer's sandbox inbox: the codes the sandbox token service "sent" for this token. */
function showInbox(tokenReferenceId: string): void {
  const panel = $('sandbox-inbox');
  panel.hidden = false;
  const load = async () => {
    const answer = await fetch(`${config.sandboxInboxUrl}?tokenReferenceId=${encodeURIComponent(tokenReferenceId)}`);
    if (!answer.ok) return;
    const { messages } = (await answer.json()) as { messages: Array<{ type: string; destination?: string; code: string; sentAt: number }> };
    $('inbox').replaceChildren(
      ...messages.map((m) => {
        const li = document.createElement('li');
        const time = new Date(m.sentAt * 1000).toLocaleTimeString('en-GB');
        li.append(`${m.type === 'otp_email' ? 'Email' : 'Text message'} to ${m.destination ?? '—'} at ${time}: `);
        const code = document.createElement('code');
        code.textContent = m.code;
        li.append(code);
        return li;
      }),
    );
    panel.dataset.count = String(messages.length);
  };
  $('inbox-refresh').onclick = () => void load();
  void load();
}
