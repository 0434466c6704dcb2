#!/usr/bin/env node
/**
 * The `pushprov-conformance` command:
 *
 * - `pushprov-conformance token-service --base-url URL --profile FILE`
 * - `pushprov-conformance issuer-backend --endpoint URL --profile FILE`
 * - `pushprov-conformance vectors --adapter "CMD ARGS" [--kinds K,…]`
 *
 * with `--timeout-ms N`, `--junit FILE`, `--json FILE`, `--only ID,…`,
 * `--vectors FILE`, `--docs-base URL`. Exit status: 0 when every applicable
 * case passed, 1 when one failed, 2 on a usage or profile error.
 *
 * @packageDocumentation
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import { runIssuerBackendConformance } from './issuer-backend/suite.js';
import { DEFAULT_TIMEOUT_MS } from './lib/http.js';
import { ProfileError, readJsonFile } from './profile.js';
import { DEFAULT_DOCS_BASE, type Report, formatJson, formatJunit, formatTable } from './report.js';
import { runTokenServiceConformance } from './token-service/suite.js';
import { VECTOR_KINDS } from './vectors/load.js';
import { runVectorConformance } from './vectors/suite.js';

const USAGE = `Usage:
  pushprov-conformance token-service --base-url URL --profile FILE [options]
      Runs the token service suite against the service at URL: the positive
      flows, every negative provisioning-request vector re-sealed for it, and
      the HTTP rules of protocol section 7. Contacts nothing but URL's origin.
  pushprov-conformance issuer-backend --endpoint URL --profile FILE [options]
      Plays the wallet against the issuer backend at URL and checks the
      encrypted request it builds. With the profile's tokenServiceKeys.serve,
      serves the runner's token service JWKS on 127.0.0.1 (the URL is printed).
  pushprov-conformance vectors --adapter "CMD ARGS" [--kinds KIND,...] [options]
      Runs every conformance vector through an adapter: CMD is started once
      (no shell) and gets one JSON case per line on standard input, and
      answers one JSON line per case on standard output.
      Kinds: ${VECTOR_KINDS.join(', ')}.
  pushprov-conformance --help | --version

Options:
  --timeout-ms N     Timeout of every HTTP call or adapter answer (default ${DEFAULT_TIMEOUT_MS}).
  --junit FILE       Also write the results as JUnit XML.
  --json FILE        Also write the results as JSON.
  --only ID,...      Run only these cases (ids, or prefixes ending with *).
  --vectors FILE     Another vector file than @pushprov/protocol/vectors.json.
  --docs-base URL    Where troubleshooting links point (default ${DEFAULT_DOCS_BASE}).

Exit status: 0 when every applicable case passed, 1 when a case failed, 2 on a usage or profile error.
`;

class UsageError extends Error {}

const COMMON = {
  'timeout-ms': { type: 'string' },
  junit: { type: 'string' },
  json: { type: 'string' },
  only: { type: 'string' },
  vectors: { type: 'string' },
  'docs-base': { type: 'string' },
  help: { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

function parse(argv: string[], extra: Record<string, { type: 'string' | 'boolean' }>): Values {
  try {
    return parseArgs({ args: argv, options: { ...COMMON, ...extra }, strict: true, allowPositionals: false }).values as Values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function commonOptions(values: Values) {
  let timeoutMs: number | undefined;
  if (typeof values['timeout-ms'] === 'string') {
    timeoutMs = Number(values['timeout-ms']);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new UsageError('--timeout-ms must be an integer from 1 to 600000');
  }
  const only = typeof values.only === 'string' ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const filter = only && ((id: string) => only.some((pattern) => (pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern)));
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(filter ? { filter } : {}),
    ...(typeof values.vectors === 'string' ? { vectorsPath: values.vectors } : {}),
    ...(typeof values['docs-base'] === 'string' ? { docsBase: values['docs-base'] } : {}),
  };
}

function writeOutputs(report: Report, values: Values, out: (text: string) => void): void {
  out(formatTable(report));
  for (const [flag, format] of [
    ['junit', formatJunit],
    ['json', formatJson],
  ] as const) {
    const path = values[flag];
    if (typeof path !== 'string') continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, format(report));
    out(`Wrote ${flag === 'junit' ? 'JUnit XML' : 'JSON'} to ${path}\n`);
  }
}

/** I/O of {@link main}. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/** Runs the command line; resolves with the exit status. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      io.stdout(`${packageJson.version}\n`);
      return 0;
    }
    let report: Report;
    let values: Values;
    if (command === 'token-service') {
      values = parse(rest, { 'base-url': { type: 'string' }, profile: { type: 'string' } });
      if (values.help) return (io.stdout(USAGE), 0);
      const baseUrl = required(values, 'base-url');
      const profile = readJsonFile(required(values, 'profile'));
      report = await runTokenServiceConformance({ baseUrl, profile: profile as never, ...commonOptions(values) });
    } else if (command === 'issuer-backend') {
      values = parse(rest, { endpoint: { type: 'string' }, profile: { type: 'string' } });
      if (values.help) return (io.stdout(USAGE), 0);
      const endpoint = required(values, 'endpoint');
      const profile = readJsonFile(required(values, 'profile'));
      report = await runIssuerBackendConformance({
        endpoint,
        profile: profile as never,
        ...commonOptions(values),
        onJwksServed: (url) => io.stdout(`Serving the runner's token service JWKS at ${url}\n`),
      });
    } else if (command === 'vectors') {
      values = parse(rest, { adapter: { type: 'string' }, kinds: { type: 'string' } });
      if (values.help) return (io.stdout(USAGE), 0);
      const adapter = required(values, 'adapter');
      const kinds = typeof values.kinds === 'string' ? values.kinds.split(',').map((k) => k.trim()).filter(Boolean) : undefined;
      const unknown = kinds?.filter((k) => !(VECTOR_KINDS as readonly string[]).includes(k)) ?? [];
      if (unknown.length > 0) throw new UsageError(`unknown kinds: ${unknown.join(', ')} (kinds: ${VECTOR_KINDS.join(', ')})`);
      const common = commonOptions(values);
      report = await runVectorConformance({ adapter, ...(kinds ? { kinds } : {}), ...common });
    } else {
      throw new UsageError(`unknown command ${command}`);
    }
    writeOutputs(report, values, io.stdout);
    return report.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ProfileError || error instanceof TypeError) {
      io.stderr(`pushprov-conformance: ${error.message}\n${error instanceof UsageError ? `\n${USAGE}` : ''}`);
      return 2;
    }
    throw error;
  }
}

// Run as a command (tsx or node on this file), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
