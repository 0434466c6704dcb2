// Human-readable output of the demo: each step as it happens, then a summary.
import type { DemoStep, DemoSummary } from './run-demo.js';

/** ANSI styles, or none when colour is off. */
export interface Styles {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;

/** Colours when writing to a terminal and `NO_COLOR` is not set. */
export function createStyles(color: boolean): Styles {
  return color
    ? { bold: ansi(1, 22), dim: ansi(2, 22), green: ansi(32, 39), red: ansi(31, 39), cyan: ansi(36, 39) }
    : { bold: plain, dim: plain, green: plain, red: plain, cyan: plain };
}

const SECTION_BEFORE: Partial<Record<DemoStep['id'], string>> = {
  setup: 'Setting up',
  invocation: 'Provisioning Visa •••• 1111 from the bank’s app into the wallet',
  replay_refused: 'An attacker with a captured request',
  step_up: 'The yellow path: Visa •••• 0028, whose bank confirms the cardholder first',
  vault_checked: 'Where the card number is',
};

/** `visa` → `Visa`, `amex` → `Amex`. */
export const networkName = (network: string) => network.charAt(0).toUpperCase() + network.slice(1);

const ms = (value: number) => `${value.toFixed(1)} ms`;

/** Formats one step: a header line (title, who, time since the previous step) and its facts. */
export function formatStep(step: DemoStep, index: number, s: Styles): string {
  const out: string[] = [];
  const section = SECTION_BEFORE[step.id];
  if (section) out.push('', s.bold(section));
  const number = String(index).padStart(2);
  out.push(`${number} ${s.green('✔')} ${s.bold(step.title.padEnd(40))} ${s.cyan(step.actor.padEnd(25))} ${s.dim(`+${ms(step.stepMs)}`)}`);
  for (const line of step.lines) out.push(`      ${s.dim(line)}`);
  return out.join('\n');
}

/** The banner printed first. */
export function formatBanner(s: Styles): string {
  return `${s.bold('pushprov demo')} — device push provisioning, end to end over real HTTP on 127.0.0.1`;
}

/** The closing summary. */
export function formatSummary(summary: DemoSummary, s: Styles): string {
  const row = (label: string, value: string) => `  ${label.padEnd(16)} ${value}`;
  const refusals = summary.refusals.map((r) => `${r.attack === 'replay' ? 'replayed request' : 'moved to another device'} → ${r.status ?? '-'} ${r.code}`).join(' · ');
  const { token, request } = summary;
  return [
    '',
    s.bold('Summary'),
    row('card', `${networkName(summary.card.network)} •••• ${summary.card.last4} (${summary.card.productName ?? 'card'}) from ${summary.card.issuerId}`),
    row('wallet', `${summary.wallet.walletProviderId} · account ${summary.wallet.walletAccountId} · device ${summary.wallet.deviceId}`),
    row('session', `${summary.sessionId} → ${summary.issuerOutcome.state}, ${summary.issuerOutcome.status}`),
    row('request', `compact JWE ${request.alg} / ${request.enc}, ${request.length} characters, to kid ${request.kid}`),
    row('token', `•••• ${token.tokenLast4}, ${token.status}, expires ${token.expiry}, reference ${token.tokenReferenceId}`),
    row('refused', refusals),
    row('yellow path', `•••• ${summary.yellow.last4}: ${summary.yellow.method} to ${summary.yellow.destination}, code read from the sandbox inbox → ${summary.yellow.status}`),
    row('card number', 'never in an app message, never in the database in the clear'),
    row('total', `${ms(summary.durationMs)}; servers stopped, temporary folder removed`),
    '',
    s.green(s.bold('✔ The card was provisioned, and both attacks were refused.')),
    s.green(s.bold('✔ The yellow-path card was confirmed with a one-time code and is active.')),
    '',
  ].join('\n');
}
