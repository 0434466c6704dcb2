// The check of issue 15's notifications (spec section 14): two token
// service processes (the CLI, from source) on one PostgreSQL database, a
// bank's and a wallet provider's webhook receivers on 127.0.0.1 (the
// protocol's handler: signature by kid from the service's JWKS, iat window,
// dedup by event id). The bank fails its first deliveries (500), then hangs
// while one instance holds leases and is killed (SIGKILL, by PID), then is
// down (connection refused), then comes back. Lifecycle changes go through
// both instances all along. Every event arrives, each receiver processes
// each exactly once and in order per token, and none is lost: the killed
// instance's leases run out and the other takes its deliveries over.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NotificationEvent, createIssuerAssertion, luhnCheckDigit, parseProvisioningResponse, parsePublicJwks, zNotificationFeed } from '@pushprov/protocol';
import { migratePostgres } from '../src/index.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { API_KEY, SERVICE_ID, type Fixture, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';
import { type TestReceiver, sequencesByToken, startReceiver, waitUntil } from './notification-receiver.js';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Short, so that the killed instance's leases run out within the test. */
const LEASE_MS = 2_500;

interface Instance {
  child: ChildProcess;
  url: string;
  owner: string;
  stdout: () => string;
  exit: Promise<unknown>;
}

const children = new Set<ChildProcess>();
async function startInstance(dir: string, storeUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, 'start', '--config', 'config.json', '--port', '0', '--store', storeUrl], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exit = new Promise((resolve) => child.on('exit', resolve));
  const line = (msg: string) => out.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  await waitUntil(() => {
    if (child.exitCode !== null) throw new Error(`the instance exited: ${err.slice(0, 2000)}`);
    return line('listening') !== undefined && line('notification dispatcher started') !== undefined;
  }, 60_000, 'an instance to listen');
  const { url } = JSON.parse(line('listening')!) as { url: string };
  const { owner } = JSON.parse(line('notification dispatcher started')!) as { owner: string };
  return { child, url, owner, stdout: () => out, exit };
}

// Last four 999x: approved by the sandbox rules (no step-up).
/** Parses an answer with its protocol schema. */
const parseAs = <T>(schema: { parse(input: unknown): T }, text: string): T => schema.parse(JSON.parse(text));

const panOf = (n: number): string => {
  const body = `4111114${String(n).padStart(4, '0')}9999`;
  return `${body}${luhnCheckDigit(body)}`;
};

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let db: pg.Pool;
let a: Instance;
let b: Instance;
let bank: TestReceiver;
let wallet: TestReceiver;

beforeAll(async () => {
  fx = await createFixture();
  temp = createTempDir('notifications-cluster-');
  bank = await startReceiver('bank-a', SERVICE_ID);
  wallet = await startReceiver('wallet-co', SERVICE_ID);
  const storeUrl = await testDatabaseUrl();
  await migratePostgres(storeUrl);
  writeFileSync(join(temp.dir, 'keys.json'), JSON.stringify(fx.keySet), { mode: 0o600 });
  const config = {
    ...fx.config,
    keys: './keys.json',
    issuers: fx.config.issuers.map((i) => ({ ...i, notifications: { endpoint: bank.url } })),
    walletProviders: fx.config.walletProviders.map((p) => (p.id === 'wallet-co' ? { ...p, notifications: { endpoint: wallet.url } } : p)),
    notifications: { pollIntervalMs: 25, leaseMs: LEASE_MS, timeoutMs: 1_000, retry: { initialDelayMs: 25, maxDelayMs: 300, giveUpAfterSeconds: 600 } },
  };
  writeFileSync(join(temp.dir, 'config.json'), JSON.stringify(config, null, 2));
  [a, b] = await Promise.all([startInstance(temp.dir, storeUrl), startInstance(temp.dir, storeUrl)]);
  const jwks = parsePublicJwks(await (await fetch(`${a.url}/.well-known/jwks.json`)).json());
  bank.trust(jwks);
  wallet.trust(jwks);
  db = new pg.Pool({ connectionString: storeUrl, max: 2 });
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await db?.end();
  await bank?.stop();
  await wallet?.stop();
  temp?.remove();
});

const change = (base: string, ref: string, action: 'suspend' | 'resume', reason: string) =>
  fetch(`${base}/v1/tokens/${ref}/lifecycle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': `k-${ref}-${action}-${Math.random().toString(36).slice(2)}` },
    body: JSON.stringify({ action, reason }),
  });
const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);
let cards = 0;

describe('notifications from two instances on one PostgreSQL database', () => {
  it('delivers every event exactly once and in order per token, through failures, an outage and a killed instance', async () => {
    bank.failNext(6);
    // Tokens issued through both instances.
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      fx.clock.set(Date.now());
      const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers(), card: { pan: panOf(++cards), expiry: { month: 12, year: 2031 } } });
      const response = await postSubmission(i % 2 === 0 ? a.url : b.url, submission);
      expect(response.status).toBe(201);
      tokens.push(parseProvisioningResponse(await response.text()).tokenReferenceId);
    }
    let round = 0;
    const changeAll = async (action: 'suspend' | 'resume', via: string[]) => {
      for (const [i, ref] of tokens.entries()) {
        const response = await change(via[(i + round) % via.length]!, ref, action, action === 'suspend' ? 'card_lost' : 'customer_request');
        expect([response.status, response.status === 200 ? '' : await response.text()]).toEqual([200, '']);
      }
      round++;
    };
    await changeAll('suspend', [a.url, b.url]);
    await waitUntil(() => bank.failed >= 6, 20_000, "the bank's first failures");

    // The bank hangs: attempts are in flight, held under leases; instance A is killed holding some.
    bank.hang();
    await changeAll('resume', [a.url, b.url]);
    await waitUntil(
      async () => (await count("SELECT count(*) AS n FROM deliveries WHERE state = 'pending' AND lease_owner = $1 AND lease_until > $2", [a.owner, Date.now()])) > 0,
      20_000,
      'instance A to hold a lease',
    );
    a.child.kill('SIGKILL');
    await a.exit;
    const orphaned = await count("SELECT count(*) AS n FROM deliveries WHERE state = 'pending' AND lease_owner = $1", [a.owner]);
    expect(orphaned).toBeGreaterThan(0);

    // Then the bank is down for a while (connection refused), and the changes go on through B.
    await bank.down();
    await changeAll('suspend', [b.url]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await bank.up();
    await changeAll('resume', [b.url]);

    await waitUntil(async () => (await count("SELECT count(*) AS n FROM deliveries WHERE state <> 'delivered'")) === 0, 45_000, 'every delivery');
    // A's leased deliveries were taken over by B, after their lease ran out.
    expect(await count('SELECT count(*) AS n FROM deliveries WHERE lease_owner IS NOT NULL')).toBe(0);

    // Every event of the feed arrived at both, once each, in order per token.
    const feed: NotificationEvent[] = [];
    const issuerAuth = async () => `Bearer ${await createIssuerAssertion({ issuerId: 'bank-a', audience: SERVICE_ID, signingKey: fx.issuer.privateJwk })}`;
    for (let cursor = '0'; ; ) {
      const page = parseAs(zNotificationFeed, await (await fetch(`${b.url}/v1/events?after=${cursor}&limit=7`, { headers: { authorization: await issuerAuth() } })).text());
      if (page.events.length === 0) break;
      feed.push(...page.events);
      cursor = page.cursor;
    }
    expect(feed).toHaveLength(tokens.length * 5);
    expect(await count('SELECT count(*) AS n FROM events')).toBe(feed.length);
    for (const receiver of [bank, wallet]) {
      expect(receiver.processed).toHaveLength(feed.length);
      expect(new Set(receiver.processed.map((e) => e.eventId))).toEqual(new Set(feed.map((e) => e.eventId)));
      expect(receiver.refused).toBe(0);
      const byToken = sequencesByToken(receiver.processed);
      for (const ref of tokens) expect([ref, byToken.get(ref)]).toEqual([ref, [1, 2, 3, 4, 5]]);
    }
    expect(bank.failed).toBeGreaterThanOrEqual(6);
  });
});
