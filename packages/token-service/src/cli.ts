#!/usr/bin/env node
/**
 * The `token-service` command line:
 *
 * - `token-service keys generate --out FILE [--kid KID] [--force]`
 * - `token-service start --config FILE [--port N] [--host HOST] [--store PATH|URL] [--log-level LEVEL] [--metrics-port N] [--sandbox]`
 * - `token-service migrate --store PATH|URL` (or `--config FILE`)
 * - `token-service config check --config FILE`
 * - `token-service vault status --config FILE [--store PATH|URL] [--json]`
 * - `token-service vault rotate --config FILE [--store PATH|URL] [--to KID] [--batch-size N] [--json]`
 * - `token-service vault pin-fingerprint-key --config FILE --out FILE [--force] [--store PATH|URL]`
 * - `token-service inspect (--config FILE [--store PATH|URL] | --url URL) (--submission FILE|- | --request ID) [--wallet-provider ID] [--json]`
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isProvisioningError, redactPans, toPublicJwk } from '@pushprov/protocol';
import packageJson from '../package.json' with { type: 'json' };
import { ConfigError, KEK_ENV, type TokenServiceConfig, loadConfig } from './config/parse-config.js';
import { zKeySet } from './config/z-config.js';
import { generateKeySet } from './keys/generate-key-set.js';
import { KeyFileError, writeKeyFile } from './keys/write-key-file.js';
import { LOG_LEVELS, type LogLevel, createJsonLogger } from './log/logger.js';
import { startTokenServer } from './server.js';
import { describeReloadFailure } from './service/reload.js';
import { InspectUsageError, runInspectCommand } from './inspector/inspect-command.js';
import { isPostgresUrl, migrateStore, openStore } from './store/open-store.js';
import type { TokenServiceStore } from './store/types.js';
import { type RotateVaultResult, type VaultKeyCounts, countVaultKeys, rotateVault } from './vault/rotate-vault.js';
import { FINGERPRINT_CHECK_META } from './vault/store-keys.js';
import { type VaultCipher, createVaultCipherFromConfig, effectiveFingerprintKey } from './vault/vault-cipher.js';

const USAGE = `Usage:
  token-service keys generate --out FILE [--kid KID] [--force]
      Writes a new private key set (encryption key, notification signing key, vault KEK,
      fingerprint key) to FILE (mode 600) and prints its public JWK set on standard output.
  token-service start --config FILE [--port N] [--host HOST] [--store PATH|URL]
                      [--log-level debug|info|warn|error|silent] [--metrics-port N] [--sandbox]
      Runs the server (default 127.0.0.1:8080). The store is a SQLite file
      (default ./token-service.db) or a postgres:// URL, from --store, else the
      environment's TOKEN_SERVICE_STORE, else the configuration's "store".
      A PostgreSQL schema must be migrated first. --db PATH is --store PATH.
      The vault KEK may come from the environment: TOKEN_SERVICE_KEK.
      Logs are JSON lines on standard output, at --log-level or the
      configuration's log.level (default info). --metrics-port N serves
      Prometheus metrics on 127.0.0.1:N at /metrics (over the configuration's
      "metrics": { port, host, path }; metrics are off unless one sets them).
      SIGHUP reads FILE again and applies it without a restart (issuers, wallet
      providers, rate limits, keys, log.level unless --log-level is given; not
      the store, host, port or metrics, which need a restart); a bad one is
      logged ("reload refused") and the running configuration stays.
      --sandbox (the same switch as "sandbox": true in FILE; either turns on
      all of sandbox mode): the sandbox test cards decide by the PAN's last
      four digits (approve 0010, decline 0002, step-up 0028 SMS, 0036 e-mail,
      0044 issuer app, 0051 customer service, 0069 every method, 0077 a code
      that is always wrong, not eligible 0085), one-time codes are kept in
      memory and served at GET /sandbox/inbox?tokenReferenceId=…, and the
      request inspector is served at /sandbox/inspector. Never in production.
  token-service migrate --store PATH|URL | --config FILE
      Brings the store's schema to this version (forward only) and says
      from which version to which. Safe to run from several hosts at once.
  token-service config check --config FILE
      Validates a configuration and lists every mistake.
  token-service vault status --config FILE [--store PATH|URL] [--json]
      Prints, per vault key id, how many vault entries, token numbers and
      stored answers it seals, and whether the configuration's fingerprint
      key is the one the store was built with. Changes nothing.
  token-service vault rotate --config FILE [--store PATH|URL] [--to KID] [--batch-size N] [--json]
      Seals every vault entry, token number and stored answer again under
      the first configured vault key (or KID), in batches of N (default 500),
      each one transaction; safe while the service runs, and resumable: what
      is already under the key is skipped. Then prints what vault status prints.
      A vault key may leave the configuration once it holds nothing.
  token-service vault pin-fingerprint-key --config FILE --out FILE [--force] [--store PATH|URL]
      Writes the configuration's key set to FILE (mode 600, atomically; --force
      replaces an existing file) with the fingerprint key it derives from the
      first vault key made explicit as vault.fingerprintKey, so the vault keys
      can change. Checks it against the store when there is one. Prints no key.
  token-service inspect --config FILE [--store PATH|URL] --submission FILE|- [--wallet-provider ID] [--json]
  token-service inspect --url URL (--submission FILE|- [--wallet-provider ID] | --request ID) [--json]
      The request inspector (sandbox mode only: "sandbox": true, or a service
      started with --sandbox for --url): each
      validation step with its result, the decoded JWE and JWS headers, the
      claims with the card number masked, the binding beside the submission,
      and the failing step's troubleshooting entry. A dry run that changes
      nothing. With --config, here (step 12 reads the store's replay records);
      with --url, by a running sandbox service, which also knows its recent
      requests (--request: a request id or correlation id). Exit 0 when no
      step refused it, 1 when one did.
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
  process.stderr.write(`Wrote the private key set to ${out}. Keep it secret. Its public JWK set follows (what /.well-known/jwks.json publishes):\n`);
  const published = [...keySet.encryptionKeys.keys, ...(keySet.signingKeys?.keys ?? [])].map(toPublicJwk);
  process.stdout.write(`${JSON.stringify({ keys: published }, null, 2)}\n`);
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

/** Opens the store a command acts on; a SQLite file must exist (a command that only reads never creates one). */
async function openExistingStore(location: string): Promise<TokenServiceStore> {
  if (!isPostgresUrl(location) && !existsSync(location)) throw new UsageError(`no store at ${location}: pass --store PATH|URL`);
  return openStore(location);
}

/** What the store says of the configuration's fingerprint key. */
async function fingerprintState(store: TokenServiceStore, cipher: VaultCipher): Promise<'matches' | 'differs' | 'unrecorded'> {
  const recorded = await store.meta.get(FINGERPRINT_CHECK_META);
  return recorded === undefined ? 'unrecorded' : recorded === cipher.fingerprintKeyCheck ? 'matches' : 'differs';
}

/** The key ids to report: the configured ones (in order), then any other the store holds values under. */
function keyRows(config: TokenServiceConfig, counts: VaultKeyCounts) {
  const configured = config.keys.vault.keks.map((k) => k.id);
  const found = new Set<string>();
  for (const table of Object.values(counts)) for (const id of Object.keys(table)) found.add(id);
  const ids = [...configured, ...[...found].filter((id) => !configured.includes(id)).sort()];
  return ids.map((id, i) => ({
    id,
    configured: configured.includes(id),
    active: i === 0,
    vault: counts.vault[id] ?? 0,
    tokens: counts.tokens[id] ?? 0,
    idempotency: counts.idempotency[id] ?? 0,
  }));
}

async function printVaultStatus(
  store: TokenServiceStore,
  config: TokenServiceConfig,
  cipher: VaultCipher,
  json: boolean,
  rotated?: RotateVaultResult,
): Promise<boolean> {
  const keys = keyRows(config, await countVaultKeys(store));
  const fingerprintKey = await fingerprintState(store, cipher);
  const held = keys.some((k) => !k.configured && k.vault + k.tokens + k.idempotency > 0);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...(rotated ? { rotated } : {}), keys, fingerprintKey }, null, 2)}\n`);
    return !held;
  }
  const label = (id: string) => (id === '' ? '(unreadable format)' : id);
  const width = Math.max(6, ...keys.map((k) => label(k.id).length));
  const lines = [`${'key id'.padEnd(width)}  ${'vault'.padStart(8)}  ${'tokens'.padStart(8)}  ${'idempotency'.padStart(11)}`];
  for (const k of keys) {
    const total = k.vault + k.tokens + k.idempotency;
    const note = !k.configured ? '  not configured: put it back to open these' : k.active ? '  (seals)' : total === 0 ? '  holds nothing: may be removed' : '';
    lines.push(`${label(k.id).padEnd(width)}  ${String(k.vault).padStart(8)}  ${String(k.tokens).padStart(8)}  ${String(k.idempotency).padStart(11)}${note}`);
  }
  lines.push(
    fingerprintKey === 'matches'
      ? 'Fingerprint key: the one this store was built with.'
      : fingerprintKey === 'unrecorded'
        ? 'Fingerprint key: not recorded yet (the service records it when it first starts on this store).'
        : 'Fingerprint key: DIFFERS from the one this store was built with; the service refuses to start (see "Keys and rotation" in the guide).',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return !held;
}

async function vaultCommand(sub: string | undefined, argv: string[]): Promise<number> {
  if (sub === 'status' || sub === 'rotate') {
    const values = parse(argv, {
      config: { type: 'string' },
      store: { type: 'string' },
      db: { type: 'string' },
      json: { type: 'boolean' },
      ...(sub === 'rotate' ? { to: { type: 'string' }, 'batch-size': { type: 'string' } } : {}),
    });
    const config = loadConfig(requireString(values, 'config'));
    const cipher = createVaultCipherFromConfig(config.keys.vault);
    let batchSize: number | undefined;
    if (typeof values['batch-size'] === 'string') {
      if (!/^[0-9]{1,5}$/.test(values['batch-size']) || Number(values['batch-size']) < 1 || Number(values['batch-size']) > 10_000) {
        throw new UsageError('--batch-size must be a number from 1 to 10000');
      }
      batchSize = Number(values['batch-size']);
    }
    const to = typeof values.to === 'string' ? values.to : undefined;
    if (to !== undefined && !cipher.keyIds.includes(to)) throw new UsageError(`--to ${to}: no vault key with this id is configured`);
    const json = values.json === true;
    const store = await openExistingStore(storeLocation(values, config.store));
    try {
      let rotated: RotateVaultResult | undefined;
      if (sub === 'rotate') {
        rotated = await rotateVault(store, cipher, { toKeyId: to, batchSize });
        if (!json) {
          const r = rotated;
          process.stdout.write(
            `Sealed again under ${r.keyId}: ${r.resealed.vault} vault entries, ${r.resealed.tokens} token numbers, ${r.resealed.idempotency} stored answers.\n` +
              `Changed meanwhile by the service (left as they were): ${r.changedMeanwhile.vault + r.changedMeanwhile.tokens + r.changedMeanwhile.idempotency}.\n`,
          );
        }
      }
      const ok = await printVaultStatus(store, config, cipher, json, rotated);
      const unreadable = rotated ? rotated.unreadable.vault + rotated.unreadable.tokens + rotated.unreadable.idempotency : 0;
      if (unreadable > 0) process.stderr.write(`token-service: ${unreadable} value(s) could not be opened with the configured vault keys and were left as they were.\n`);
      if (!ok) process.stderr.write('token-service: the store holds values under vault key ids the configuration does not have; the service refuses to start until they are back.\n');
      return unreadable > 0 || !ok ? 1 : 0;
    } finally {
      await store.close();
    }
  }
  if (sub === 'pin-fingerprint-key') {
    const values = parse(argv, { config: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, store: { type: 'string' }, db: { type: 'string' } });
    const config = loadConfig(requireString(values, 'config'));
    const out = requireString(values, 'out');
    const vault = config.keys.vault;
    if (vault.fingerprintKey !== undefined) {
      process.stdout.write('The fingerprint key is already configured explicitly (keys.vault.fingerprintKey or TOKEN_SERVICE_FINGERPRINT_KEY): nothing to pin.\n');
      return 0;
    }
    const { key } = effectiveFingerprintKey(vault);
    const cipher = createVaultCipherFromConfig(vault);
    const location = storeLocation(values, config.store);
    if (isPostgresUrl(location) || existsSync(location)) {
      const store = await openStore(location);
      try {
        if ((await fingerprintState(store, cipher)) === 'differs') {
          process.stderr.write(
            `token-service: the fingerprint key derived from the first vault key (${vault.keks[0]!.id}) is not the one the store at ${describeLocation(location)} was built with; ` +
              'pinning it would not help. Configure the first vault key the store was built with, then run this again. Nothing was written.\n',
          );
          return 1;
        }
      } finally {
        await store.close();
      }
    } else {
      process.stderr.write(`No store at ${location}: the fingerprint key was not checked against one (pass --store PATH|URL to check).\n`);
    }
    const keySet = zKeySet.safeParse({
      type: 'pushprov-token-service-keys',
      version: 1,
      encryptionKeys: config.keys.encryptionKeys,
      vault: { keks: vault.keks, fingerprintKey: Buffer.from(key).toString('base64url') },
    });
    if (!keySet.success) throw new UsageError('the configuration\'s key set cannot be written back as a key set file');
    try {
      writeKeyFile(out, `${JSON.stringify(keySet.data, null, 2)}\n`, { force: values.force === true });
    } catch (error) {
      if (error instanceof KeyFileError) throw new UsageError(error.message);
      const code = (error as { code?: string }).code;
      throw new UsageError(`cannot write ${out} (${code ?? 'error'})`);
    }
    const fromEnv = process.env[KEK_ENV] !== undefined && process.env[KEK_ENV] !== '';
    process.stderr.write(
      `Wrote the key set to ${out} (mode 600) with vault.fingerprintKey pinned: the fingerprint key derived from vault key ${vault.keks[0]!.id}.` +
        `${fromEnv ? ` It holds the vault keys from ${KEK_ENV} too.` : ''} Point the configuration's "keys" at it; then a new vault key may be added first.\n`,
    );
    return 0;
  }
  throw new UsageError(`Unknown command: ${['vault', sub].filter(Boolean).join(' ')}`);
}

async function start(argv: string[]): Promise<void> {
  const values = parse(argv, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    db: { type: 'string' },
    store: { type: 'string' },
    'log-level': { type: 'string' },
    'metrics-port': { type: 'string' },
    sandbox: { type: 'boolean' },
  });
  const configFile = requireString(values, 'config');
  const levelFlag = values['log-level'];
  if (levelFlag !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(levelFlag)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const metricsPortText = values['metrics-port'];
  if (metricsPortText !== undefined && (typeof metricsPortText !== 'string' || !/^[0-9]{1,5}$/.test(metricsPortText) || Number(metricsPortText) > 65_535)) {
    throw new UsageError('--metrics-port must be a number from 0 to 65535');
  }
  const portText = typeof values.port === 'string' ? values.port : '8080';
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65_535) throw new UsageError('--port must be a number from 0 to 65535');
  const config = loadConfig(configFile);
  const logger = createJsonLogger({ level: (levelFlag as LogLevel | undefined) ?? config.log.level });
  const location = storeLocation(values, config.store);
  const server = await startTokenServer({
    config,
    storeUrl: location,
    port: Number(portText),
    host: typeof values.host === 'string' ? values.host : '127.0.0.1',
    logger,
    // A reload applies the file's log.level, unless --log-level pinned it.
    followConfigLogLevel: levelFlag === undefined,
    ...(metricsPortText === undefined ? {} : { metrics: { port: Number(metricsPortText) } }),
    ...(values.sandbox === true ? { sandbox: true } : {}),
  });
  // The thread pool size in effect (the `token-service` launcher defaults it to cores - 1; libuv's own default is 4).
  const threadpoolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  logger.info({ msg: 'listening', url: server.url, metricsUrl: server.metricsUrl, serviceId: config.serviceId, version: packageJson.version, threadpoolSize, store: isPostgresUrl(location) ? 'postgres' : 'sqlite', ...(values.sandbox === true || config.sandbox === true ? { sandbox: true } : {}) });
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
  // Reload: the file read again, checked, then applied by the server (which logs the outcome either way).
  process.on('SIGHUP', () => {
    if (stopping) return;
    logger.info({ msg: 'reloading', signal: 'SIGHUP' });
    let next: TokenServiceConfig;
    try {
      next = loadConfig(configFile);
    } catch (error) {
      logger.error({ msg: 'reload refused', ...describeReloadFailure(error) });
      return;
    }
    server.reload(next).catch(() => undefined);
  });
}

async function inspectCommand(argv: string[]): Promise<number> {
  const values = parse(argv, {
    config: { type: 'string' },
    store: { type: 'string' },
    db: { type: 'string' },
    url: { type: 'string' },
    submission: { type: 'string' },
    request: { type: 'string' },
    'wallet-provider': { type: 'string' },
    json: { type: 'boolean' },
  });
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  try {
    return await runInspectCommand({
      config: str('config'),
      store: (configured) => storeLocation(values, configured),
      url: str('url'),
      submission: str('submission'),
      request: str('request'),
      walletProvider: str('wallet-provider'),
      json: values.json === true,
      readStdin: async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      },
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
  } catch (error) {
    if (error instanceof InspectUsageError) throw new UsageError(error.message);
    throw error;
  }
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
    else if (command === 'vault') return await vaultCommand(sub, rest);
    else if (command === 'inspect') return await inspectCommand(sub === undefined ? [] : [sub, ...rest]);
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
