// The bank's page. It holds an account reference and the card's last 4
// digits, never the card number: the issuer backend (same origin,
// `/api/push-provisioning`) signs the invocation and builds the encrypted
// request. The wallet opens in a popup on another origin.
import {
  type ProvisioningSession,
  type ProvisioningSessionEvent,
  type SessionState,
  createBackendRequestSource,
  createIssuerClient,
  createPopupWalletChannel,
} from '@pushprov/issuer-sdk';
import type { IssuerPageConfig } from '../start-browser-example.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const STEP_ORDER: SessionState[] = ['invoked', 'identified', 'request_built', 'delivered', 'completed'];

const config = (await (await fetch('/config.json')).json()) as IssuerPageConfig;
const { account } = config;
$('who').textContent = `Signed in as ${config.cardholderName}`;
$('card-product').textContent = account.productName ?? 'Card';
$('card-number').textContent = `•••• •••• •••• ${account.last4}`;
$('card-holder').textContent = config.cardholderName;
$('card-network').textContent = account.network.toUpperCase();
$('origin').textContent = location.origin;

// The backend is same-origin: the session cookie authenticates the customer.
const backend = createBackendRequestSource({ url: '/api/push-provisioning', credentials: 'same-origin' });
const issuer = createIssuerClient({ issuerId: config.issuerId, requestSource: backend, invocationSigner: backend.signInvocation });

const button = $<HTMLButtonElement>('add');
button.disabled = false;
document.body.dataset.state = 'ready';
let session: ProvisioningSession | undefined;

let reached = -1;

/** Marks the steps: done up to the last state reached, then the next one active (or failed). */
function renderSteps(mode: 'running' | 'failed' | 'done'): void {
  $('steps')
    .querySelectorAll<HTMLLIElement>('li')
    .forEach((li, i) => {
      li.className = i <= reached ? 'done' : i === reached + 1 && mode !== 'done' ? (mode === 'failed' ? 'failed' : 'active') : '';
    });
}

function showResult(kind: 'ok' | 'bad', title: string, detail: string): void {
  const result = $('result');
  result.hidden = false;
  result.className = `result ${kind}`;
  result.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = title;
  const span = document.createElement('span');
  span.textContent = detail;
  result.append(strong, span);
}

function refused(code: string, message: string): void {
  $('security').hidden = false;
  const li = document.createElement('li');
  li.textContent = `${code}: ${message}`;
  li.dataset.code = code;
  $('refused').append(li);
}

function onEvent(event: ProvisioningSessionEvent): void {
  if (event.type === 'message_rejected') {
    refused(event.error.code, event.error.message);
    return;
  }
  document.body.dataset.state = event.state;
  const index = STEP_ORDER.indexOf(event.state);
  if (index >= 0) {
    reached = index;
    renderSteps(event.state === 'completed' ? 'done' : 'running');
  }
}

button.addEventListener('click', () => {
  if (session && !['completed', 'failed', 'declined', 'cancelled', 'expired'].includes(session.state)) return;
  $('result').hidden = true;
  const wallet = createPopupWalletChannel({ walletUrl: config.walletUrl, allowedWalletOrigins: [config.walletOrigin] });
  try {
    wallet.open(); // now, inside the click: popup blockers allow window.open only here
  } catch (error) {
    showResult('bad', 'The wallet could not be opened', `${(error as { code?: string }).code ?? 'error'}: allow pop-ups for this page and try again.`);
    return;
  }
  button.disabled = true;
  reached = -1;
  renderSteps('running');
  const current = issuer.startProvisioning({ account, accountRef: config.accountRef, wallet });
  session = current;
  document.body.dataset.sessionId = current.id;
  $('session').textContent = `Session ${current.id}`;
  current.subscribe(onEvent);
  current.completed.then(
    (outcome) => {
      renderSteps('done');
      document.body.dataset.tokenReferenceId = outcome.tokenReferenceId ?? '';
      showResult(
        'ok',
        `${account.network === 'visa' ? 'Visa' : account.network} •••• ${account.last4} is in Wallet Co`,
        outcome.status === 'pending_activation' ? 'It needs activation before first use.' : `Ready to pay. Token reference ${outcome.tokenReferenceId ?? '—'}.`,
      );
      button.disabled = false;
      $('hint').textContent = 'Done. You can add it to another wallet or device the same way.';
    },
    (error: { code?: string; message?: string }) => {
      renderSteps('failed');
      document.body.dataset.state = current.state;
      document.body.dataset.errorCode = error.code ?? 'internal_error';
      const titles: Record<string, string> = {
        consent_denied: 'You chose not to add the card',
        channel_closed: 'The wallet window was closed',
        declined: 'The card could not be added',
        expired: 'The request timed out',
      };
      showResult('bad', titles[error.code ?? ''] ?? 'The card was not added', `${error.code ?? 'error'}: ${error.message ?? ''}`);
      button.disabled = false;
    },
  );
});
