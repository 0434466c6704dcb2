// The bank's window for the wallet (wallet-initiated provisioning, spec
// section 4.24): the wallet's home page opened it and asks which of the
// signed-in customer's cards it may add. The bank answers with a signed
// invocation listing its cards (each with its account id), the customer
// picks in the wallet, and the flow goes on as a normal session.
import { createBackendRequestSource, createIssuerClient } from '@pushprov/issuer-sdk';
import { createPopupWalletChannel } from '@pushprov/issuer-sdk/browser';
import { answerAccountsRequest, createBackendAccountLister } from '@pushprov/issuer-sdk/offer';
import type { IssuerPageConfig } from '../start-browser-example.js';
import { cardName } from './flow-view.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const config = (await (await fetch('/config.json')).json()) as IssuerPageConfig;
$('who').textContent = `Signed in as ${config.cardholderName}`;

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
}

const opener = window.opener as Window | null;
if (!opener) {
  $('share-title').textContent = 'Open this page from Wallet Co';
  $('share-text').textContent = 'Wallet Co opens this page when you add a card from Bank A.';
  document.body.dataset.state = 'no_wallet';
} else {
  await answerWallet(opener);
}

/** Answers the wallet that opened this window with the customer's cards, then follows the session to its end. */
async function answerWallet(opener: Window): Promise<void> {
  // The wallet opened this window: talk to it (its opener) with the popup channel's checks (the message's source
  // window and origin), pinned to the wallet's origin. This page never closes the channel (that would close the
  // wallet's window): the wallet closes this window when it is done.
  const channel = createPopupWalletChannel({
    walletUrl: `${config.walletOrigin}/`,
    allowedWalletOrigins: [config.walletOrigin],
    window: {
      open: () => opener,
      addEventListener: (type, listener) => window.addEventListener(type, listener as unknown as EventListener),
      removeEventListener: (type, listener) => window.removeEventListener(type, listener as unknown as EventListener),
      setInterval: (handler, timeout) => window.setInterval(handler, timeout),
      clearInterval: (id) => window.clearInterval(id),
    },
  });
  channel.open();
  const backend = createBackendRequestSource({ url: '/api/push-provisioning', credentials: 'same-origin' });
  const issuer = createIssuerClient({ issuerId: config.issuerId, requestSource: backend, invocationSigner: backend.signInvocation });
  // The customer is signed in: the bank offers their cards; the wallet shows them with their place in it.
  $('share-cards').replaceChildren(
    ...config.cards.map((card) => {
      const li = document.createElement('li');
      li.dataset.last4 = card.account.last4;
      li.textContent = `${card.account.productName ?? 'Card'} · ${cardName(card.account)}`;
      return li;
    }),
  );
  $('share-text').textContent = 'Sending your cards to Wallet Co securely. Choose the ones to add there.';
  document.body.dataset.state = 'answering';
  // What to offer is the backend's call (builder option `listAccounts`): the signed-in customer's cards, never what the request asks.
  const listAccounts = createBackendAccountLister({ url: '/api/push-provisioning', credentials: 'same-origin' });
  const answered = await answerAccountsRequest(channel, { issuerId: config.issuerId, client: issuer, accounts: (request) => listAccounts(request.walletProviderId) });
  if (!answered.session) {
    document.body.dataset.state = 'refused';
    fact('Refused', answered.refusal.errorCode);
    $('share-text').textContent = 'Bank A has no card to add to Wallet Co.';
    return;
  }
  const session = answered.session;
  document.body.dataset.state = 'invoked';
  fact('Session', session.id);
  session.subscribe((event) => {
    if (event.type === 'message_rejected') refused(event.error.code, event.error.message);
    if (event.type === 'account') fact(`Card ${event.accountId ?? '?'}`, `${event.status}${event.errorCode ? `: ${event.errorCode}` : ''}`);
  });
  const outcome = await session.outcome;
  document.body.dataset.state = outcome.state;
  document.body.dataset.outcome = outcome.status;
  const result = $('share-result');
  result.hidden = false;
  const added = outcome.accounts.filter((a) => a.status === 'provisioned' || a.status === 'pending_activation').length;
  result.className = `result ${added > 0 ? 'ok' : 'calm'}`;
  result.textContent = added > 0 ? `Added in Wallet Co. You can close this window.` : 'Nothing was added. You can close this window.';
  $('share-text').textContent = '';
}
