// The bank's window for the wallet (wallet-initiated provisioning): the
// wallet's home page opened it to ask which of the signed-in customer's cards
// it may add.
import type { IssuerPageConfig } from '../start-browser-example.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const config = (await (await fetch('/config.json')).json()) as IssuerPageConfig;
$('who').textContent = `Signed in as ${config.cardholderName}`;
document.body.dataset.state = 'ready';
