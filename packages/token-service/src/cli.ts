#!/usr/bin/env node
/**
 * The `token-service` command line:
 *
 * - `token-service keys generate --out FILE [--kid KID] [--force]`
 * - `token-service start --config FILE [--port N] [--host HOST] [--store PATH|URL]`
 * - `token-service migrate --store PATH|URL` (or `--config FILE`)
 * - `token-service config check --config FILE`
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { isProvisioningError, redactPans, toPublicJwk } from '@pushprov/protocol';
import packageJson from '../package.json' with { type: 'json' };
import { ConfigError, loadConfig } from './config/parse-config.js';
import { generateKeySet } from './keys/generate-key-set.js';
import { KeyFileError, writeKeyFile } from './keys/write-key-file.js';
import { createJsonLogger } from './log/logger.js';
import { startTokenServer } from './server.js';
import { isPostgresUrl, migrateStore } from './store/open-store.js';

const USAGE = `Usage:
  token-service keys generate --out FILE [--kid KID] [--force]
      Writes a new private key set (encryption key, vault KEK, fingerprint key) to FILE (mode 600)
      and prints its public JWK set, for issuers, on standard output.
  token-service start --config FILE [--port N] [--host HOST] [--store PATH|URL]
      Runs the server (default 127.0.0.1:8080). The store is a SQLite file
      (default ./token-service.db) or a postgres:// URL, from --store, else the
      environment's TOKEN_SERVICE_STORE, else the configuration's "store".
      A PostgreSQL schema must be migrated first. --db PATH is --store PATH.
      The vault KEK may come from the environment: TOKEN_SERVICE_KEK.
  token-service migrate --store PATH|URL | --config FILE
      Brings the store's schema to this version (forward only) and says
      from which version to which. Safe to run from several hosts at once.
  token-service config check --config FILE
      Validates a configuration and lists every mistake.
  token-service --help | --version
`;

class UsageError extends Error {}

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

function parse(argv: string[], options: OptionSpec) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function requireString(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

async function generateKeys(argv: string[]): Promise<void> {
  const values = parse(argv, { out: { type: 'string' }, kid: { type: 'string' }, force: { type: 'boolean' } });
  const out = requireString(values, 'out');
  const kid = typeof values.kid === 'string' ? values.kid : undefined;
  if (kid !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(kid)) throw new UsageError('--kid must be 1-128 characters of [A-Za-z0-9._:-]');
  const keySet = await generateKeySet(kid === undefined ? {} : { kid });
  try {
    // Mode 600 from creation, never through a symbolic link; --force renames a new file over the old one.
    writeKeyFile(out, `${JSON.stringify(keySet, null, 2)}\n`, { force: values.force === true });
  } catch (error) {
    if (error instanceof KeyFileError) throw new UsageError(error.message);
    const code = (error as { code?: string }).code;
    throw new UsageError(code === 'EEXIST' ? `${out} exists; pass --force to overwrite it` : `cannot write ${out} (${code ?? 'error'})`);
  }
  process.stderr.write(`Wrote the private key set to ${out}. Keep it secret. Its public JWK set follows (give it to issuers):\n`);
  process.stdout.write(`${JSON.stringify({ keys: keySet.encryptionKeys.keys.map(toPublicJwk) }, null, 2)}\n`);
}

/** The store's location: --store (or --db), TOKEN_SERVICE_STORE, the configuration's `store`, the default file. */
function storeLocation(values: Record<string, string | boolean | undefined>, configured: string | undefined): string {
  if (typeof values.store === 'string' && typeof values.db === 'string') throw new UsageError('pass --store or --db, not both');
  const flag = typeof values.store === 'string' ? values.store : typeof values.db === 'string' ? values.db : undefined;
  if (flag === '') throw new UsageError('--store must not be empty');
  const fromEnv = process.env.TOKEN_SERVICE_STORE;
  return flag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined) ?? configured ?? 'token-service.db';
}

/** A store location as it may be printed: a URL's password masked. */
function describeLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password !== '') url.password = '•••';
    return url.toString();
  } catch {
    return 'postgres://…';
  }
}

async function migrate(argv: string[]): Promise<void> {
  const values = parse(argv, { store: { type: 'string' }, config: { type: 'string' }, db: { type: 'string' } });
  const configured = typeof values.config === 'string' ? loadConfig(values.config).store : undefined;
  if (values.store === undefined && values.db === undefined && values.config === undefined && !process.env.TOKEN_SERVICE_STORE) {
    throw new UsageError('migrate needs --store PATH|URL (or --config FILE, or TOKEN_SERVICE_STORE)');
  }
  const location = storeLocation(values, configured);
  const { from, to } = await migrateStore(location);
  process.stdout.write(
    from === to ? `The store at ${describeLocation(location)} is at schema version ${to}: nothing to do.\n` : `Migrated the store at ${describeLocation(location)} from schema version ${from} to ${to}.\n`,
  );
}

async function start(argv: string[]): Promise<void> {
  const values = parse(argv, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    db: { type: 'string' },
    store: { type: 'string' },
  });
  const configFile = requireString(values, 'config');
  const portText = typeof values.port === 'string' ? values.port : '8080';
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65_535) throw new UsageError('--port must be a number from 0 to 65535');
  const config = loadConfig(configFile);
  const logger = createJsonLogger();
  const location = storeLocation(values, config.store);
  const server = await startTokenServer({
    config,
    storeUrl: location,
    port: Number(portText),
    host: typeof values.host === 'string' ? values.host : '127.0.0.1',
    logger,
  });
  // The thread pool size in effect (the `token-service` launcher defaults it to cores - 1; libuv's own default is 4).
  const threadpoolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  logger.info({ msg: 'listening', url: server.url, serviceId: config.serviceId, version: packageJson.version, threadpoolSize, store: isPostgresUrl(location) ? 'postgres' : 'sqlite' });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ msg: 'stopping', signal });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function checkConfig(argv: string[]): void {
  const values = parse(argv, { config: { type: 'string' } });
  const config = loadConfig(requireString(values, 'config'));
  process.stdout.write(
    `The configuration is valid: service ${config.serviceId}, ${config.issuers.length} issuer(s), ${config.walletProviders.length} wallet provider(s), ${config.keys.encryptionKeys.keys.length} encryption key(s).\n`,
  );
}

/** Runs the CLI with `argv` (without `node` and the script). Resolves to the exit code (a running server keeps the process alive). */
export async function runCli(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${packageJson.version}\n`);
      return 0;
    }
    if (command === 'keys' && sub === 'generate') await generateKeys(rest);
    else if (command === 'start') await start(sub === undefined ? [] : [sub, ...rest]);
    else if (command === 'migrate') await migrate(sub === undefined ? [] : [sub, ...rest]);
    else if (command === 'config' && sub === 'check') checkConfig(rest);
    else throw new UsageError(`Unknown command: ${[command, sub].filter(Boolean).join(' ')}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`token-service: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`token-service: ${error.message}\n`);
      return 2;
    }
    const text = isProvisioningError(error) ? error.toString() : error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
    process.stderr.write(`token-service: ${redactPans(text)}\n`);
    return 1;
  }
}

runCli(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  () => process.exit(1),
);
