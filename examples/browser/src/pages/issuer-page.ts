// The bank's page. It holds account references and the cards' last 4
// digits, never a card number: the issuer backend (same origin,
// `/api/push-provisioning`) signs the invocation and builds the encrypted
// request. The wallet opens in a popup on another origin.
//
// What the customer reads comes from ./flow-view.ts (the error wording from
// `@pushprov/protocol/messages`). Ids and codes are for developers: they sit
// in the "Details" toggle.
import { type ProvisioningSession, type ProvisioningSessionEvent, createBackendRequestSource, createIssuerClient } from '@pushprov/issuer-sdk';
import { createBackendActivationSource, receiveActivationInvocation } from '@pushprov/issuer-sdk/activation';
import { type PopupWalletChannel, createPopupWalletChannel } from '@pushprov/issuer-sdk/browser';
import { createBackendStatusQuerySigner, queryStatus } from '@pushprov/issuer-sdk/status';
import type { IssuerPageCard, IssuerPageConfig } from '../start-browser-example.js';
import {
  type AccountOutcomeView,
  type BankView,
  type Names,
  type WalletPlace,
  accountOutcome,
  bankActivation,
  bankCompleted,
  bankConfirmPrompt,
  bankEnded,
  bankRunning,
  bankSeveralEnded,
  cardName,
  walletPlaceView,
} from './flow-view.js';
import { repostUntilHeard } from './repost-channel.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const TERMINAL = ['completed', 'failed', 'declined', 'cancelled', 'expired'];
/** A wallet window that does not close itself after its ending is closed by the bank after this long, ms. */
const WALLET_WINDOW_GRACE_MS = 15_000;

const config = (await (await fetch('/config.json')).json()) as IssuerPageConfig;
$('who').textContent = `Signed in as ${config.cardholderName}`;
$('card-holder').textContent = config.cardholderName;

// The backend is same-origin: the session cookie authenticates the customer.
const backend = createBackendRequestSource({ url: '/api/push-provisioning', credentials: 'same-origin' });
// App to app: the bank's activation endpoint (createActivationHandler), with the same session cookie.
const activation = createBackendActivationSource({ url: '/api/token-activation', credentials: 'same-origin' });
// The bank closes the wallet window itself, after the wallet has shown its own ending (see `end`).
const issuer = createIssuerClient({ issuerId: config.issuerId, requestSource: backend, invocationSigner: backend.signInvocation, closeChannelOnEnd: false });

let selected: IssuerPageCard = config.cards[0]!;
let session: ProvisioningSession | undefined;
let wallet: PopupWalletChannel | undefined;
let graceTimer: ReturnType<typeof setTimeout> | undefined;
const names = (): Names => ({ bank: selected.account.issuerName ?? 'your bank', wallet: config.walletName, card: cardName(selected.account) });

// ── The card picker and the card visual.
function selectCard(card: IssuerPageCard): void {
  selected = card;
  const { account } = card;
  $('card-product').textContent = account.productName ?? 'Card';
  $('card-number').textContent = `•••• •••• •••• ${account.last4}`;
  $('card-network').textContent = account.network.toUpperCase();
  for (const option of $('card-picker').querySelectorAll<HTMLButtonElement>('button')) {
    option.setAttribute('aria-checked', String(option.dataset.accountRef === card.accountRef));
  }
  document.body.dataset.card = account.last4;
}
for (const card of config.cards) {
  const option = document.createElement('button');
  option.type = 'button';
  option.className = 'card-option';
  option.setAttribute('role', 'radio');
  option.dataset.accountRef = card.accountRef;
  option.dataset.last4 = card.account.last4;
  const name = document.createElement('strong');
  name.textContent = card.account.productName ?? 'Card';
  const number = document.createElement('span');
  number.textContent = `•••• ${card.account.last4}`;
  option.append(name, number);
  if (card.testNote) {
    const note = document.createElement('small');
    note.textContent = card.testNote;
    option.append(note);
  }
  option.addEventListener('click', () => {
    if (session && !TERMINAL.includes(session.state)) return; // one card at a time
    selectCard(card);
  });
  $('card-picker').append(option);
}
selectCard(selected);

// ── Rendering a view of ./flow-view.ts.
function render(view: BankView): void {
  const steps = $('steps');
  steps.replaceChildren(
    ...view.steps.map((step) => {
      const li = document.createElement('li');
      li.className = step.mark;
      li.dataset.mark = step.mark;
      const dot = document.createElement('span');
      dot.className = 'dot';
      const text = document.createElement('div');
      const title = document.createElement('strong');
      title.textContent = step.title;
      text.append(title);
      if (step.note) {
        const note = document.createElement('small');
        note.textContent = step.note;
        text.append(note);
      }
      li.append(dot, text);
      return li;
    }),
  );
  $('status-line').textContent = view.status;
  $('status-line').hidden = view.status === '';
  const result = $('result');
  result.hidden = !view.result;
  if (view.result) {
    result.className = `result ${view.result.tone}`;
    const title = document.createElement('strong');
    title.textContent = view.result.title;
    const message = document.createElement('span');
    message.textContent = view.result.message;
    result.replaceChildren(title, message);
  }
  const label = $('add-label');
  if (view.button === `Add to ${config.walletName}`) {
    const strong = document.createElement('strong');
    strong.textContent = config.walletName;
    label.replaceChildren('Add to ', strong);
  } else {
    label.textContent = view.button;
  }
  if (view.outcome) document.body.dataset.outcome = view.outcome;
  renderAccountOutcomes(undefined);
  // On a phone the progress sits below the card: bring it into view.
  $('status-panel').scrollIntoView({ block: 'nearest' });
}

// ── The developer details: every id and code, out of the customer's way.
const facts = new Map<string, string>();
function fact(label: string, value: string | undefined): void {
  if (value === undefined) facts.delete(label);
  else facts.set(label, value);
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

/**
 * The token references this browser was told were added, per card. A real
 * bank knows its cards' tokens from the token service; the example's page
 * remembers the ones it heard of, so it can tell an add from a card that was
 * already there (the token service answers such a request with the same token).
 */
function seenBefore(last4: string, tokenReferenceId: string | undefined): boolean {
  if (!tokenReferenceId) return false;
  const key = `bank-a.tokens.${last4}`;
  const known = (JSON.parse(localStorage.getItem(key) ?? '[]') as string[]).filter((id) => typeof id === 'string');
  if (known.includes(tokenReferenceId)) return true;
  localStorage.setItem(key, JSON.stringify([...known, tokenReferenceId]));
  return false;
}

const HINT = $('hint').textContent ?? '';
const button = $<HTMLButtonElement>('add');
button.disabled = false;
document.body.dataset.state = 'ready';

button.addEventListener('click', () => {
  if (session && !TERMINAL.includes(session.state)) return;
  // A wallet window still showing the last ending gives way to the new one.
  clearTimeout(graceTimer);
  wallet?.close();
  const card = selected;
  const channel = createPopupWalletChannel({ walletUrl: config.walletUrl, allowedWalletOrigins: [config.walletOrigin] });
  wallet = channel;
  $('status-panel').hidden = false;
  $('hint').textContent = HINT;
  $('status-heading').textContent = `Adding ${cardName(card.account)}`;
  facts.clear();
  fact('Bank (issuer id)', config.issuerId);
  fact('Account reference', card.accountRef);
  fact('Bank origin', location.origin);
  fact('Wallet origin', config.walletOrigin);
  delete document.body.dataset.outcome;
  delete document.body.dataset.errorCode;
  delete document.body.dataset.tokenReferenceId;
  try {
    channel.open(); // now, inside the click: popup blockers allow window.open only here
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'popup_blocked';
    fact('Error', code);
    document.body.dataset.errorCode = code;
    render(bankEnded(names(), code, false, 'created'));
    return;
  }
  button.disabled = true;
  let lastLive = 'created';
  render(bankRunning(names(), lastLive));
  const current = issuer.startProvisioning({ account: card.account, accountRef: card.accountRef, wallet: channel });
  session = current;
  document.body.dataset.sessionId = current.id;
  document.body.dataset.state = current.state;
  fact('Session', current.id);
  current.subscribe((event: ProvisioningSessionEvent) => {
    if (event.type === 'message_rejected') {
      refused(event.error.code, event.error.message);
      return;
    }
    if (event.type !== 'state') return;
    document.body.dataset.state = event.state;
    fact('State', event.state);
    if (TERMINAL.includes(event.state)) return;
    lastLive = event.state;
    render(bankRunning(names(), event.state));
  });
  const end = (pending = false) => {
    button.disabled = false;
    // The wallet shows its own ending, then closes its window; if it does not, the bank closes it.
    // Not while the wallet still confirms a pending card with its customer: it closes itself at its end.
    if (!pending) graceTimer = setTimeout(() => channel.close(), WALLET_WINDOW_GRACE_MS);
  };
  void current.outcome.then((outcome) => {
    if (outcome.state !== 'completed') {
      const error = outcome.error;
      const code = error.code ?? 'internal_error';
      document.body.dataset.state = current.state;
      document.body.dataset.errorCode = code;
      fact('Error', `${code}: ${error.message ?? ''}`);
      render(bankEnded(names(), code, error.retryable === true, lastLive));
      end();
      return;
    }
    {
      const already = seenBefore(card.account.last4, outcome.tokenReferenceId);
      fact('Token reference', outcome.tokenReferenceId ?? '—');
      fact('Result', `${outcome.status}${already ? ' (a token this page saw before)' : ''}`);
      document.body.dataset.tokenReferenceId = outcome.tokenReferenceId ?? '';
      const pending = outcome.status === 'pending_activation';
      render(bankCompleted(names(), pending ? 'pending_activation' : 'provisioned', already));
      $('hint').textContent = `You can add it to ${config.walletName} on another device the same way.`;
      end(pending);
      if (pending) void confirmInBank(channel, names());
    }
  });
});

// ── App to app: the wallet hands the bank its check (an issuer_app method, spec section 4.17).

/**
 * Waits on the wallet window's channel for its activation invocation, asks
 * the signed-in customer, and has the backend activate the token (the
 * backend checks, from the token service's account id, that the token is
 * this customer's). The wallet learns it from the token service.
 */
async function confirmInBank(channel: PopupWalletChannel, names: Names): Promise<void> {
  const box = $('app-confirm');
  document.body.dataset.appActivation = 'waiting';
  try {
    const { invocation } = await receiveActivationInvocation(channel, {
      issuerId: config.issuerId,
      activation,
      onRejected: (error) => refused(error.code, error.message),
      confirm: (asked) =>
        new Promise<boolean>((resolve) => {
          fact('Activation invocation', `${asked.tokenReferenceId}, method ${asked.methodId}, from ${asked.walletProviderId}`);
          const prompt = bankConfirmPrompt(names);
          $('app-confirm-title').textContent = prompt.title;
          $('app-confirm-text').textContent = prompt.message;
          box.hidden = false;
          document.body.dataset.appActivation = 'asking';
          box.scrollIntoView({ block: 'center' });
          const answer = (value: boolean) => {
            $('app-confirm-yes').onclick = $('app-confirm-no').onclick = null;
            box.hidden = true;
            document.body.dataset.appActivation = value ? 'activating' : 'declined';
            resolve(value);
          };
          $('app-confirm-yes').onclick = () => answer(true);
          $('app-confirm-no').onclick = () => answer(false);
        }),
    });
    fact('Correlation id', invocation.correlationId);
    document.body.dataset.appActivation = 'active';
    render(bankActivation(names, { status: 'active' }));
  } catch (error) {
    box.hidden = true;
    const code = (error as { code?: string }).code ?? 'internal_error';
    // The wallet window closed, or another card started: the wallet did not hand the check over.
    if (code === 'channel_closed' || code === 'aborted') {
      document.body.dataset.appActivation = 'gone';
      return;
    }
    fact('Activation', code);
    document.body.dataset.appActivation = code === 'consent_denied' ? 'declined' : 'failed';
    render(bankActivation(names, { status: 'stopped', code }));
  }
}

// ── Several cards in one session: "Add both debit cards" (the sandbox bank approves one, declines the other).

/** The two cards "Add both" adds: Everyday Debit (approved) and Travel Debit (the sandbox bank declines it). */
const BOTH = config.cards.slice(0, 2);

function renderAccountOutcomes(accounts: AccountOutcomeView[] | undefined): void {
  const list = $('account-outcomes');
  list.hidden = !accounts;
  list.replaceChildren(
    ...(accounts ?? []).map((account, i) => {
      const li = document.createElement('li');
      li.className = account.tone;
      li.dataset.outcome = account.outcome;
      li.dataset.last4 = BOTH[i]?.account.last4 ?? '';
      const text = document.createElement('div');
      const name = document.createElement('strong');
      name.textContent = account.card;
      const line = document.createElement('small');
      line.textContent = account.text;
      text.append(name, line);
      li.append(text);
      return li;
    }),
  );
}

const addBoth = $<HTMLButtonElement>('add-both');
addBoth.disabled = false;
addBoth.addEventListener('click', () => {
  if (session && !TERMINAL.includes(session.state)) return;
  clearTimeout(graceTimer);
  wallet?.close();
  const channel = createPopupWalletChannel({ walletUrl: config.walletUrl, allowedWalletOrigins: [config.walletOrigin] });
  wallet = channel;
  const several: Names = { bank: config.bankName, wallet: config.walletName, card: `your ${BOTH.length} cards` };
  $('status-panel').hidden = false;
  $('status-heading').textContent = `Adding ${BOTH.map((card) => cardName(card.account)).join(' and ')}`;
  facts.clear();
  fact('Bank (issuer id)', config.issuerId);
  fact('Account ids', BOTH.map((card) => card.account.accountId ?? card.accountRef).join(', '));
  delete document.body.dataset.outcome;
  delete document.body.dataset.errorCode;
  try {
    channel.open();
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'popup_blocked';
    document.body.dataset.errorCode = code;
    render(bankEnded(several, code, false, 'created'));
    return;
  }
  button.disabled = addBoth.disabled = true;
  let lastLive = 'created';
  render(bankRunning(several, lastLive));
  // One session, both cards: the wallet shows both, the customer picks, the backend builds a request for each picked card.
  const current = issuer.startProvisioning({
    accounts: BOTH.map((card) => ({ hint: card.account, accountRef: card.accountRef })),
    wallet: channel,
    onEvent: (event) => {
      if (event.type === 'message_rejected') return refused(event.error.code, event.error.message);
      if (event.type === 'account') {
        fact(`Card ${event.accountId ?? '?'}`, `${event.status}${event.errorCode ? `: ${event.errorCode}` : ''}`);
        return;
      }
      document.body.dataset.state = event.state;
      if (TERMINAL.includes(event.state)) return;
      lastLive = event.state;
      render(bankRunning(several, event.state));
    },
  });
  session = current;
  document.body.dataset.sessionId = current.id;
  fact('Session', current.id);
  void current.outcome.then((outcome) => {
    button.disabled = addBoth.disabled = false;
    graceTimer = setTimeout(() => channel.close(), WALLET_WINDOW_GRACE_MS);
    document.body.dataset.state = outcome.state;
    fact('Result', outcome.status);
    // A session that ended before any result (the window closed, the wallet said "Not now", time ran out): one ending.
    const byId = new Map(outcome.accounts.map((a) => [a.accountId, a]));
    if (outcome.state !== 'completed') {
      const { error } = outcome;
      if (outcome.accounts.every((a) => a.errorCode === error.code)) {
        document.body.dataset.errorCode = error.code;
        render(bankEnded(several, error.code, error.retryable === true, lastLive));
        return;
      }
    }
    const views = BOTH.map((card) => {
      const entry = byId.get(card.account.accountId);
      return accountOutcome(several, cardName(card.account), entry?.status ?? 'failed', entry?.errorCode);
    });
    const view = bankSeveralEnded(several, views);
    render(view);
    renderAccountOutcomes(view.accounts);
  });
});

// ── The wallet panel: where each card is, asked of the wallet (a status query the bank's backend signs).

/** The last answer, per account id. */
let places: Map<string, WalletPlace> | undefined;

function renderWalletCards(): void {
  $('wallet-cards').replaceChildren(
    ...config.cards.map((card) => {
      const li = document.createElement('li');
      li.dataset.last4 = card.account.last4;
      const text = document.createElement('div');
      const name = document.createElement('strong');
      name.textContent = `${card.account.productName ?? 'Card'} ••••\u00a0${card.account.last4}`; // the dots stay with the digits
      const line = document.createElement('small');
      text.append(name, line);
      li.append(text);
      const place = places?.get(card.account.accountId ?? card.accountRef);
      if (!place) {
        line.textContent = 'Not checked yet';
        li.dataset.place = 'unknown';
        return li;
      }
      const view = walletPlaceView(place, config.walletName);
      line.textContent = view.text;
      line.className = `state-${view.tone}`;
      li.dataset.place = view.tone;
      li.dataset.thisDevice = place.thisDevice;
      li.dataset.otherDevices = place.otherDevices;
      // "Add" only where it helps: not for a card that is already on this device.
      if (view.add) {
        const add = document.createElement('button');
        add.type = 'button';
        add.className = 'secondary add-card';
        add.textContent = view.add;
        add.addEventListener('click', () => {
          selectCard(card);
          button.click(); // still inside the customer's click: the wallet window may open
        });
        li.append(add);
      }
      return li;
    }),
  );
}
renderWalletCards();

// The backend signs a status query only for the signed-in customer's own account ids (builder option `listAccounts`).
const statusSigner = createBackendStatusQuerySigner({ url: '/api/push-provisioning', credentials: 'same-origin' });
const check = $<HTMLButtonElement>('check-wallet');
check.disabled = false;
check.addEventListener('click', () => {
  if (session && !TERMINAL.includes(session.state)) return;
  clearTimeout(graceTimer);
  wallet?.close();
  $('check-error').hidden = true;
  const popup = createPopupWalletChannel({ walletUrl: config.walletUrl, allowedWalletOrigins: [config.walletOrigin] });
  try {
    popup.open(); // inside the click
  } catch {
    $('check-error').textContent = `Allow ${config.walletName} to open in a new window, then check again.`;
    $('check-error').hidden = false;
    return;
  }
  check.disabled = true;
  document.body.dataset.walletCheck = 'asking';
  const accountIds = config.cards.map((card) => card.account.accountId ?? card.accountRef);
  queryStatus(repostUntilHeard(popup, ['status-query']), { issuerId: config.issuerId, accountIds, signer: statusSigner, timeoutMs: 20_000 })
    .then(
      (answer) => {
        places = new Map(answer.map((entry) => [entry.accountId, { thisDevice: entry.thisDevice, otherDevices: entry.otherDevices }]));
        fact('Status query', answer.map((entry) => `${entry.accountId}: ${entry.thisDevice} / ${entry.otherDevices}`).join('; '));
        document.body.dataset.walletCheck = 'answered';
        renderWalletCards();
      },
      (error: { code?: string }) => {
        document.body.dataset.walletCheck = 'failed';
        document.body.dataset.checkErrorCode = error.code ?? 'internal_error';
        $('check-error').textContent = `${config.walletName} didn’t answer. Try again.`;
        $('check-error').hidden = false;
      },
    )
    .finally(() => {
      check.disabled = false;
      popup.close();
    });
});
