// The demo's command line: `pnpm demo` (steps as they happen, then a
// summary) or `pnpm demo --json` (only a machine-readable summary).
// Exit code 0 on success, 1 on failure (with a clear message), 2 on bad
// usage, 130 when interrupted (Ctrl-C) after cleaning up.
import { parseArgs } from 'node:util';
import { isProvisioningError, redactPans } from '@pushprov/protocol';
import { createStyles, formatBanner, formatStep, formatSummary } from './format-text.js';
import { DemoError, runDemo } from './run-demo.js';

const USAGE = `Usage: pnpm demo [--json] [--timeout MS] [--store sqlite|postgres]

Starts a token service (SQLite, fresh keys, temporary folder) and an issuer
backend on 127.0.0.1, plays the bank's app and the wallet app, provisions a
test card end to end, shows a replayed request and a request moved to another
device being refused, then a yellow-path card (a sandbox test card whose bank
confirms the cardholder first) confirmed with a one-time code read from the
sandbox inbox, then stops everything and removes the folder.

  --json          print only a machine-readable summary (JSON) on stdout
  --timeout MS    give up after MS milliseconds (default 30000)
  --store KIND    sqlite (default: a file in the temporary folder) or postgres
                  (a throwaway PostgreSQL cluster from the machine's binaries,
                  or a database on TEST_DATABASE_URL's server)
  --help          this text
`;

async function main(argv: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean; timeout?: string; store?: string };
  try {
    values = parseArgs({
      args: argv.filter((a) => a !== '--'),
      options: { json: { type: 'boolean' }, help: { type: 'boolean' }, timeout: { type: 'string' }, store: { type: 'string' } },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const timeoutMs = values.timeout === undefined ? 30_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1_000 || timeoutMs > 600_000) {
    process.stderr.write('--timeout must be a whole number of milliseconds from 1000 to 600000\n');
    return 2;
  }

  if (values.store !== undefined && values.store !== 'sqlite' && values.store !== 'postgres') {
    process.stderr.write('--store must be sqlite or postgres\n');
    return 2;
  }
  const store = values.store === 'postgres' ? 'postgres' : 'sqlite';
  const json = values.json === true;
  const s = createStyles(!json && process.stdout.isTTY === true && !process.env.NO_COLOR);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let index = 0;
  if (!json) process.stdout.write(`${formatBanner(s)}\n`);
  try {
    const summary = await runDemo({
      signal: controller.signal,
      timeoutMs,
      store,
      onStep: json ? undefined : (step) => process.stdout.write(`${formatStep(step, index++, s)}\n`),
    });
    process.stdout.write(json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary, s));
    return 0;
  } catch (error) {
    const code = error instanceof DemoError ? error.code : isProvisioningError(error) ? error.code : undefined;
    const message = redactPans(error instanceof Error ? error.message : String(error));
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: code ?? null, message } }, null, 2)}\n`);
    process.stderr.write(`\n${s.red(s.bold('✘ The demo failed'))}${code ? ` (${code})` : ''}: ${message}\n`);
    if (!(error instanceof DemoError) && !isProvisioningError(error) && error instanceof Error && error.stack) {
      process.stderr.write(`${s.dim(redactPans(error.stack))}\n`);
    }
    return controller.signal.aborted ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
