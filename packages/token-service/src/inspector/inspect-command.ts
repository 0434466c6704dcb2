// `token-service inspect`: the request inspector on the command line.
//
//   token-service inspect --config FILE [--store PATH|URL] --submission FILE|- [--wallet-provider ID] [--json]
//       a dry run here, with the configuration's keys (sandbox: true) and the store's replay records (read only)
//   token-service inspect --url URL (--submission FILE|- [--wallet-provider ID] | --request ID) [--json]
//       asks a running sandbox token service (its /sandbox/inspector routes): a submission, or a recent request
//       by its request id or correlation id
//
// Exit codes: 0 no step refused it, 1 a step refused it (or the service could not be asked), 2 usage.
import { existsSync, readFileSync } from 'node:fs';
import { redactPans } from '@pushprov/protocol';
import { loadConfig } from '../config/parse-config.js';
import { createTokenService } from '../service/create-token-service.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { isPostgresUrl, openStore } from '../store/open-store.js';
import type { TokenServiceStore } from '../store/types.js';
import type { InspectionReport } from './inspect-submission.js';
import { INSPECTOR_PATH } from './sandbox-routes.js';

/** What the CLI parsed for `inspect`. */
export interface InspectCommandOptions {
  config?: string | undefined;
  /** The store's location (already resolved: --store, TOKEN_SERVICE_STORE, the configuration's). */
  store?: (configured: string | undefined) => string;
  url?: string | undefined;
  submission?: string | undefined;
  request?: string | undefined;
  walletProvider?: string | undefined;
  json: boolean;
  /** Reads standard input (for `--submission -`). */
  readStdin: () => Promise<string>;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A usage mistake of `inspect` (exit 2). */
export class InspectUsageError extends Error {}

const RESULT: Record<string, string> = { passed: 'passed', failed: 'FAILED', not_reached: 'not reached', not_checked: 'not checked' };

/**
 * The report as text: the outcome, one line per step, the binding side by
 * side, the decoded headers and claims (card masked), the troubleshooting
 * entry of the failing step.
 *
 * @example
 * ```ts
 * process.stdout.write(formatInspection(report));
 * ```
 */
export function formatInspection(report: InspectionReport): string {
  const lines: string[] = [];
  const failedStep = report.steps.find((s) => s.status === 'failed');
  lines.push(
    report.outcome.status === 'failed' ? `Refused at step ${report.outcome.step} (${failedStep?.name ?? ''}): ${report.outcome.code}` : 'No step refused it.',
  );
  if (report.request) {
    const r = report.request;
    lines.push(`Request ${r.requestId}, correlation ${r.correlationId}, ${r.at}, HTTP ${r.status}${r.walletProviderId ? `, wallet provider ${r.walletProviderId}` : ''}`);
  } else lines.push(`A dry run of a submission${report.walletProviderId ? `, the binding compared with wallet provider ${report.walletProviderId}` : ''}.`);
  lines.push('');
  const width = Math.max(...report.steps.map((s) => s.name.length));
  for (const s of report.steps) {
    const notes = [s.message, s.note].filter(Boolean).join(' ');
    lines.push(`${String(s.step).padStart(2)}  ${s.name.padEnd(width)}  ${(RESULT[s.status] ?? s.status).padEnd(11)}  ${(s.code ?? '').padEnd(26)}  ${notes}`.trimEnd());
  }
  if (report.binding) {
    lines.push('', 'Binding (signed by the issuer | submitted):');
    const w = Math.max(...report.binding.map((b) => b.field.length));
    for (const b of report.binding) lines.push(`  ${b.field.padEnd(w)}  ${b.claim ?? '(none)'} | ${b.submission ?? '(none)'}  ${b.matches ? 'matches' : 'DIFFERS'}`);
  }
  for (const [title, value] of [
    ['JWE header', report.jweHeader],
    ['JWS header', report.jwsHeader],
    ['Claims (card number masked)', report.claims],
  ] as const) {
    if (value) lines.push('', `${title}:`, JSON.stringify(value, null, 2));
  }
  if (failedStep?.troubleshooting) lines.push('', `Troubleshooting: ${failedStep.troubleshooting}`);
  return `${redactPans(lines.join('\n'))}\n`;
}

async function readSubmission(options: InspectCommandOptions): Promise<string> {
  const source = options.submission!;
  if (source === '-') return options.readStdin();
  try {
    return readFileSync(source, 'utf8');
  } catch (error) {
    throw new InspectUsageError(`cannot read ${source} (${(error as { code?: string }).code ?? 'error'})`);
  }
}

async function askService(options: InspectCommandOptions): Promise<InspectionReport> {
  let base: URL;
  try {
    base = new URL(options.url!);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new InspectUsageError('--url must be the http(s) URL of a running token service');
  }
  const root = base.origin + base.pathname.replace(/\/+$/, '');
  const response =
    options.request !== undefined
      ? await fetch(`${root}${INSPECTOR_PATH}/requests/${encodeURIComponent(options.request)}`)
      : await fetch(`${root}${INSPECTOR_PATH}/inspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ submission: await readSubmission(options), ...(options.walletProvider ? { walletProviderId: options.walletProvider } : {}) }),
        });
  const text = await response.text();
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try {
      const problem = JSON.parse(text) as { code?: string; detail?: string };
      detail = `${problem.code ?? response.status}: ${problem.detail ?? ''}`;
    } catch {
      // Not problem details.
    }
    throw new Error(
      response.status === 404 && options.request === undefined ? `the service at ${root} serves no inspector (is it in sandbox mode?): ${detail}` : detail,
    );
  }
  return JSON.parse(text) as InspectionReport;
}

async function inspectHere(options: InspectCommandOptions): Promise<InspectionReport> {
  const config = loadConfig(options.config!);
  if (config.sandbox !== true) throw new InspectUsageError('the request inspector is for sandbox mode only: the configuration needs "sandbox": true');
  const location = options.store?.(config.store) ?? config.store ?? 'token-service.db';
  let store: TokenServiceStore;
  if (!isPostgresUrl(location) && !existsSync(location)) {
    options.err(`No store at ${location}: step 12 (replay) is checked against an empty store.\n`);
    store = createMemoryStore();
  } else store = await openStore(location);
  try {
    const service = createTokenService(config, store);
    return await service.inspect({ submission: await readSubmission(options), walletProviderId: options.walletProvider });
  } finally {
    await store.close();
  }
}

/**
 * Runs `token-service inspect`. Resolves to the exit code: 0 when no step
 * refused the request, 1 when one did.
 *
 * @example
 * ```ts
 * const code = await runInspectCommand({ url: 'http://127.0.0.1:8080', request: 'req_…', json: false, readStdin, out, err });
 * ```
 */
export async function runInspectCommand(options: InspectCommandOptions): Promise<number> {
  const remote = options.url !== undefined;
  if (remote === (options.config !== undefined)) throw new InspectUsageError('inspect needs --config FILE (a dry run here) or --url URL (a running sandbox service), not both');
  if (options.request !== undefined && !remote) throw new InspectUsageError('--request ID needs --url: recent requests live in the running service');
  if ((options.request === undefined) === (options.submission === undefined)) throw new InspectUsageError('inspect needs --submission FILE|- or --request ID');
  if (options.request !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(options.request)) throw new InspectUsageError('--request must be a request id or correlation id');
  const report = remote ? await askService(options) : await inspectHere(options);
  options.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspection(report));
  return report.outcome.status === 'failed' ? 1 : 0;
}
