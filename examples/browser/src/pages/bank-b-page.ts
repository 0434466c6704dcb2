// Bank B's page: another issuer of the same wallet. Its account ids are the
// same strings as Bank A's (opaque ids are per issuer, so they can collide or
// be copied). Its status query is signed with Bank B's key, so the wallet
// asks the token service about Bank B's tokens only: every card reads "not in
// Wallet Co", whatever Bank A's customer has in the wallet.
import { createPopupWalletChannel } from '@pushprov/issuer-sdk/browser';
import { createBackendStatusQuerySigner, queryStatus } from '@pushprov/issuer-sdk/status';
import type { SecondIssuerPageConfig } from '../start-browser-example.js';
import { walletPlaceView } from './flow-view.js';
import { repostUntilHeard } from './repost-channel.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const config = (await (await fetch('/config.json')).json()) as SecondIssuerPageConfig;
// Bank B's backend signs the query with Bank B's key, for Bank B's own account ids (which here are Bank A's strings).
const signer = createBackendStatusQuerySigner({ url: '/api/push-provisioning', credentials: 'same-origin' });

function render(places?: Map<string, { thisDevice: string; otherDevices: string }>): void {
  $('wallet-cards').replaceChildren(
    ...config.accounts.map((account) => {
      const li = document.createElement('li');
      li.dataset.last4 = account.last4;
      const text = document.createElement('div');
      const name = document.createElement('strong');
      name.textContent = `${account.productName ?? 'Card'} ••••\u00a0${account.last4}`;
      const line = document.createElement('small');
      const place = places?.get(account.accountId!);
      line.textContent = place ? walletPlaceView(place, config.walletName).text : 'Not checked yet';
      if (place) {
        li.dataset.thisDevice = place.thisDevice;
        li.dataset.otherDevices = place.otherDevices;
      }
      text.append(name, line);
      li.append(text);
      return li;
    }),
  );
}
render();

const facts = $('facts');
const check = $<HTMLButtonElement>('check-wallet');
check.disabled = false;
document.body.dataset.state = 'ready';
check.addEventListener('click', () => {
  const popup = createPopupWalletChannel({ walletUrl: config.walletUrl, allowedWalletOrigins: [config.walletOrigin] });
  try {
    popup.open();
  } catch {
    $('check-error').textContent = 'Allow Wallet Co to open in a new window, then check again.';
    $('check-error').hidden = false;
    return;
  }
  check.disabled = true;
  document.body.dataset.walletCheck = 'asking';
  const accountIds = config.accounts.map((account) => account.accountId!);
  queryStatus(repostUntilHeard(popup, ['status-query']), { issuerId: config.issuerId, accountIds, signer, timeoutMs: 20_000 })
    .then(
      (answer) => {
        render(new Map(answer.map((entry) => [entry.accountId, entry])));
        const dt = document.createElement('dt');
        dt.textContent = 'Status query';
        const dd = document.createElement('dd');
        dd.textContent = answer.map((entry) => `${entry.accountId}: ${entry.thisDevice} / ${entry.otherDevices}`).join('; ');
        facts.replaceChildren(dt, dd);
        document.body.dataset.walletCheck = 'answered';
      },
      (error: { code?: string }) => {
        document.body.dataset.walletCheck = 'failed';
        document.body.dataset.checkErrorCode = error.code ?? 'internal_error';
        $('check-error').textContent = 'Wallet Co didn’t answer. Try again.';
        $('check-error').hidden = false;
      },
    )
    .finally(() => {
      check.disabled = false;
      popup.close();
    });
});
