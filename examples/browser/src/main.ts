// `pnpm example:browser [--port N]`: starts the bank (port N), the wallet
// (N+1), the token service (N+2) and a second bank (N+3), prints where to
// click, and runs until Ctrl-C. `--port 0` picks free ports.
import { parseArgs } from 'node:util';
import { startBrowserExample } from './start-browser-example.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: { port: { type: 'string', default: '4100' } }, strict: true });
const base = Number(values.port);
if (!Number.isInteger(base) || base < 0 || base > 65_532) {
  process.stderr.write('--port must be 0 (free ports) or a port from 1 to 65532\n');
  process.exit(2);
}
const ports = base === 0 ? {} : { issuer: base, wallet: base + 1, tokenService: base + 2, secondIssuer: base + 3 };
const example = await startBrowserExample({ ports }).catch((error: unknown) => {
  process.stderr.write(`Could not start the browser example: ${(error as Error).message}\n`);
  process.exit(1);
});

process.stdout.write(`pushprov browser example

  Bank (issuer page):  ${example.issuerUrl}   ← open this and click "Add to Wallet Co"
  Wallet (popup):      ${example.walletUrl}
  Wallet (home):       ${example.walletHomeUrl}   ← "Add a card from Bank A" (the wallet asks the bank)
  Token service:       ${example.tokenServiceUrl}
  Bank B:              ${example.secondIssuerUrl}   ← asks the wallet about Bank A's account ids, learns nothing

Press Ctrl-C to stop.
`);

const stop = () => {
  void example.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
