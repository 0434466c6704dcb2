// Bank B's page: another issuer of the same wallet. Its account ids are the
// same strings as Bank A's; asking the wallet about them (a status query
// signed with Bank B's key), it learns nothing of Bank A's cards.
import type { SecondIssuerPageConfig } from '../start-browser-example.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const config = (await (await fetch('/config.json')).json()) as SecondIssuerPageConfig;
$('wallet-cards').replaceChildren(
  ...config.accounts.map((account) => {
    const li = document.createElement('li');
    li.textContent = `${account.productName ?? 'Card'} •••• ${account.last4}`;
    return li;
  }),
);
document.body.dataset.state = 'ready';
