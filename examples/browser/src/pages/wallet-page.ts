// The wallet's page, opened by the bank in a popup. It talks to the bank's
// page only through `window.opener` (origin allow-listed), asks the user,
// and calls the token service over HTTP (CORS) as the wallet provider.
//
// It shows its own ending (./flow-view.ts, the error wording from
// `@pushprov/protocol/messages`), then closes its window. Ids and codes are
// for developers: they sit in the "Details" toggle.
import { type JwkPair, type Jwks, generateEncryptionKey } from '@pushprov/protocol';
import { type ConsentPrompt, type WalletEvent, type WalletSessionState, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { type WalletWindowLike, createOpenerIssuerChannel } from '@pushprov/wallet-sdk/browser';
import { createStatusResponder } from '@pushprov/wallet-sdk/status';
import { requestAccounts } from '@pushprov/wallet-sdk/initiate';
import { severalAccounts } from '@pushprov/wallet-sdk/accounts';
import { deviceKeyFromJwk } from '@pushprov/wallet-sdk/device-key';
import { type PendingActivation, createActivations } from '@pushprov/wallet-sdk/activation';
import { type TokenServiceFetch, createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import type { WalletPageConfig } from '../start-browser-example.js';
import { userMessage } from '@pushprov/protocol/messages';
import { type MethodView, type Tone, cardName, codeSentText, methodLabel, verificationProblem, walletAwaitingBank, walletEnding, walletStateLine } from './flow-view.js';
import { repostUntilHeard } from './repost-channel.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const VIEWS = ['waiting', 'home', 'consent', 'progress', 'verify', 'code', 'app', 'call'] as const;
/** The wallet's home (opened directly): "Add a card from Bank A". Otherwise the page was opened by a bank. */
const HOME = location.pathname === '/';
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
/** The account ids the user ticked, in a several-card session. */
let chosen: Set<string> | undefined;
const bankName = () => (prompted?.verified && prompted.issuerName ? prompted.issuerName : 'your bank');

/**
 * Shows the consent view and resolves with the user's answer (false when the
 * session gives up first). Several cards: each with its place in this wallet,
 * the ones not on this device ticked; the answer names the ticked ones.
 */
function askUser(prompt: ConsentPrompt, signal: AbortSignal): Promise<boolean | { accountIds: string[] }> {
  prompted = prompt;
  const several = prompt.accounts.length > 1;
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
  verified.textContent = prompt.verified ? `✓ Verified: ${several ? 'these cards are' : 'this card is'} from ${issuer}` : 'Not verified';
  fact('Bank (issuer id)', `${prompt.issuerId}${prompt.verified ? ', signature verified' : ', not verified'}`);
  fact('Session', prompt.sessionId);
  const pick = $('pick-list');
  pick.hidden = !several;
  $('c-card').hidden = several;
  const accept = $<HTMLButtonElement>('accept');
  if (several) {
    $('consent-title').textContent = `Add cards from ${issuer}?`;
    pick.replaceChildren(
      ...prompt.accounts.map((account) => {
        const li = document.createElement('li');
        li.dataset.last4 = account.last4;
        li.dataset.thisDevice = account.state?.thisDevice ?? 'unknown';
        li.dataset.otherDevices = account.state?.otherDevices ?? 'unknown';
        const label = document.createElement('label');
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.value = account.accountId ?? '';
        box.checked = account.state?.thisDevice === undefined || account.state.thisDevice === 'not_added';
        box.addEventListener('change', () => {
          accept.disabled = !pick.querySelector('input:checked');
        });
        const text = document.createElement('span');
        const name = document.createElement('strong');
        name.textContent = `${account.productName ?? 'Card'} · ${cardName(account)}`;
        const state = document.createElement('small');
        state.textContent = walletStateLine(account.state);
        text.append(name, state);
        label.append(box, text);
        li.append(label);
        return li;
      }),
    );
    accept.textContent = 'Add chosen cards';
    accept.disabled = !pick.querySelector('input:checked');
  } else {
    accept.textContent = 'Add card';
    accept.disabled = false;
  }
  show('consent');
  document.body.dataset.state = 'awaiting_consent';
  const decline = $<HTMLButtonElement>('decline');
  return new Promise((resolve) => {
    const answer = (value: boolean) => {
      if (value && several) {
        const accountIds = [...pick.querySelectorAll<HTMLInputElement>('input:checked')].map((box) => box.value);
        chosen = new Set(accountIds);
        accept.onclick = decline.onclick = null;
        signal.removeEventListener('abort', onAbort);
        resolve({ accountIds });
        return;
      }
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

if (!window.opener && !HOME) {
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

const tokenStore = createMemoryTokenStore();
const tokenService = createHttpTokenServiceClient({
  baseUrl: config.tokenServiceUrl,
  // A fresh client assertion from the wallet's own server for every attempt.
  auth: { getToken: async () => (await fetch(config.assertionPath, { method: 'POST' })).text() },
  fetch: watchSubmit,
});
const identity = () => ({ walletProviderId: config.walletProviderId, walletAccountId: config.walletAccountId, deviceId: deviceId() });
const trustedIssuers = config.trustedIssuers as Record<string, Jwks>;
const wallet = createWallet({
  identity,
  consent: (prompt, { signal }) => askUser(prompt, signal),
  tokenService,
  tokenStore,
  trustedIssuers,
  deviceKey: deviceKeyFromJwk(await deviceKey()),
  // Several cards in one session (the pick, a request per card, each card's outcome, and where each already is).
  accounts: severalAccounts(),
});
// Status queries: a bank asks which of ITS cards are here (signed with its key); the answer comes from the
// token service, asked with the verified issuer id only, so no bank learns anything of another bank's cards.
const responder = createStatusResponder({ identity, tokenService, trustedIssuers });

type Outcome = Awaited<ReturnType<typeof wallet.handleInvocation>>;
let issuerOrigin: string | undefined;

if (HOME) {
  showHome();
} else {
  const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: config.allowedIssuerOrigins });
  const stopServing = responder.serve(channel);
  document.body.dataset.listening = 'true';
  const outcome = await wallet.handleInvocation(channel, { onEvent, closeChannelOnEnd: true });
  // The bank page's origin, learnt from its invocation: an issuer_app method talks back to it (spec section 4.17).
  issuerOrigin = channel.issuerOrigin;
  stopServing();
  channel.close();
  await showEnding(outcome, true);
}

// ── The wallet's home: wallet-initiated provisioning. The wallet opens the bank's window and asks it for cards.

function showHome(): void {
  show('home');
  document.body.dataset.state = 'home';
  $('home-banks').replaceChildren(
    ...config.banks.map((bank) => {
      const add = document.createElement('button');
      add.type = 'button';
      add.className = 'primary add-from-bank';
      add.dataset.issuerId = bank.issuerId;
      add.textContent = `Add a card from ${bank.name}`;
      add.addEventListener('click', () => void addFromBank(bank, add));
      return add;
    }),
  );
}

async function addFromBank(bank: WalletPageConfig['banks'][number], button: HTMLButtonElement): Promise<void> {
  const bankWindow = window.open(bank.addCardUrl, `${bank.issuerId}-cards`, 'popup,width=480,height=720');
  if (!bankWindow) {
    $('waiting-text').textContent = `Allow ${bank.name} to open in a new window, then try again.`;
    return;
  }
  button.disabled = true;
  // The channel to the window this page opened: the same origin checks as with an opener, pinned to the bank's origin.
  const win: WalletWindowLike = {
    opener: bankWindow,
    addEventListener: (type, listener) => window.addEventListener(type, listener as unknown as EventListener),
    removeEventListener: (type, listener) => window.removeEventListener(type, listener as unknown as EventListener),
  };
  const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [bank.origin], issuerOrigin: bank.origin, window: win });
  const gone = setInterval(() => {
    if (bankWindow.closed) channel.close();
  }, 400);
  $('view-waiting').querySelector('h1')!.textContent = `Sign in to ${bank.name}…`;
  $('waiting-text').textContent = `${bank.name} opened in a new window. It sends the cards you can add.`;
  show('waiting');
  document.body.dataset.state = 'asking_bank';
  fact('Bank (issuer id)', bank.issuerId);
  const session = requestAccounts(wallet, repostUntilHeard(channel, ['accounts-request']), { issuerId: bank.issuerId, onEvent });
  const outcome = await session.outcome;
  clearInterval(gone);
  channel.close();
  bankWindow.close();
  await showEnding(outcome, false);
}

// ── The ending: one card, or each card of several.

async function showEnding(outcome: Outcome, closeWindow: boolean): Promise<void> {
  document.body.dataset.state = outcome.status;
  if (outcome.status === 'rejected') {
    // No session began (nothing was sent back): say so where the user is looking, and leave the window open.
    document.body.dataset.errorCode = outcome.error.code;
    fact('Refused', `${outcome.error.code}: ${outcome.error.message}`);
    $('view-waiting').querySelector('.spinner')?.remove();
    $('view-waiting').querySelector('h1')!.textContent = 'No card to add';
    $('waiting-text').textContent = walletEnding({ card: 'this card', bank: 'your bank', wallet: WALLET_NAME }, { status: 'failed', code: outcome.error.code }).message;
    show('waiting');
    return;
  }
  const several = (prompted?.accounts.length ?? 1) > 1;
  const account = prompted?.account ?? { network: 'card', last4: '····' };
  const names = { card: cardName(account), bank: bankName(), wallet: WALLET_NAME };
  let ending: ReturnType<typeof walletEnding>;
  let activated = false;
  if (several) {
    ending = showAccounts(outcome);
  } else {
    const added = 'token' in outcome;
    // The yellow path: the bank wants its customer confirmed before the card works.
    if (outcome.status === 'pending_activation') {
      fact('Token reference', outcome.token.tokenReferenceId);
      activated = await confirmCard(outcome.token.tokenReferenceId, names);
    }
    ending = walletEnding(
      names,
      activated ? { status: 'provisioned' } : added ? { status: outcome.status, alreadyAdded: submitStatus === 200 } : { status: outcome.status, code: outcome.error.code },
    );
    if (added) {
      fact('Token reference', outcome.token.tokenReferenceId);
      fact('Token', `•••• ${outcome.token.tokenLast4}, ${outcome.token.status}`);
      fact('Token service answer', submitStatus === 200 ? '200: this card was already on this device' : `${submitStatus ?? '—'}: a new token`);
    } else {
      document.body.dataset.errorCode = outcome.error.code;
      fact('Error', `${outcome.error.code}: ${outcome.error.message}`);
    }
  }
  document.body.dataset.outcome = activated ? 'activated' : ending.outcome;
  $('sandbox-inbox').hidden = true;
  show('progress');
  finishSteps(ending.tone);
  $('wallet-steps').hidden = !ending.showSteps || several;
  const mark = $('ending-mark');
  mark.hidden = false;
  mark.className = `ending-mark ${ending.tone}`;
  $('progress-title').textContent = ending.title;
  const result = $('wallet-result');
  result.hidden = false;
  result.className = `result ${ending.tone}`;
  result.textContent = ending.message;
  if (!closeWindow) return;
  // The ending stays a moment, then the window closes (or at once with "Done").
  $('closing').hidden = false;
  $('done').onclick = () => window.close();
  setTimeout(() => window.close(), config.closeDelayMs);
}

/** Lists each card of a several-card session with its ending; returns the overall ending. */
function showAccounts(outcome: Exclude<Outcome, { status: 'rejected' }>): ReturnType<typeof walletEnding> {
  const hints = new Map((prompted?.accounts ?? []).map((a) => [a.accountId, a]));
  let added = 0;
  const items = outcome.accounts.map((entry) => {
    const hint = hints.get(entry.accountId);
    const li = document.createElement('li');
    li.dataset.last4 = hint?.last4 ?? '';
    li.dataset.status = entry.status;
    const text = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = hint ? `${hint.productName ?? 'Card'} · ${cardName(hint)}` : 'A card';
    const line = document.createElement('small');
    if (entry.token) {
      added++;
      li.className = 'ok';
      line.textContent = entry.status === 'pending_activation' ? `Added. ${bankName()} needs to finish a check first.` : 'Added. Ready to use.';
      fact(`Token ${hint?.last4 ?? ''}`, entry.token.tokenReferenceId);
    } else {
      const code = entry.error?.code ?? 'internal_error';
      li.dataset.errorCode = code;
      const picked = chosen === undefined || entry.accountId === undefined || chosen.has(entry.accountId);
      li.className = picked && code !== 'consent_denied' ? 'bad' : 'calm';
      line.textContent = picked && code !== 'consent_denied' ? `Not added. ${userMessage(code, 'wallet')}` : 'Not chosen';
      fact(`Card ${hint?.last4 ?? ''}`, code);
    }
    text.append(name, line);
    li.append(text);
    return li;
  });
  const list = $('wallet-accounts');
  list.replaceChildren(...items);
  list.hidden = false;
  const picked = chosen?.size ?? outcome.accounts.length;
  const tone: Tone = added > 0 ? 'ok' : 'bad';
  const title = added === picked ? (added === 1 ? 'Card added' : 'Cards added') : added > 0 ? `${added} of ${picked} cards added` : 'No card added';
  return { tone, title, message: 'Each card’s status is below.', showSteps: false, outcome: added === picked ? 'added' : added > 0 ? 'partial' : 'failed' };
}

// ── The yellow path: choose how to confirm, type the code (or call the bank), until the token is active.

/** Runs the activation of a pending token to its end. Resolves true once the card is ready to use. */
async function confirmCard(tokenReferenceId: string, names: { card: string; bank: string }): Promise<boolean> {
  // App to app: the activation invocation goes back to the bank's page that opened this window, on a new channel pinned to its origin.
  let bankChannel: ReturnType<typeof createOpenerIssuerChannel> | undefined;
  const bankOrigin = issuerOrigin;
  const activations = createActivations({
    tokenService,
    tokenStore,
    walletProviderId: config.walletProviderId,
    ...(bankOrigin !== undefined && {
      issuerChannel: () => (bankChannel ??= createOpenerIssuerChannel({ allowedIssuerOrigins: config.allowedIssuerOrigins, issuerOrigin: bankOrigin })),
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
    const method = await chooseMethod(activation, names.bank, bankOrigin !== undefined);
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
