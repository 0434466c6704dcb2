import { createProvisioningRequestBuilder } from '@pushprov/issuer-sdk/server';
import {
  type AccessData,
  type AppMessage,
  BaseAppChannel,
  type Invocation,
  type ProvisioningResponse,
  createSessionId,
  encryptAccessData,
  epochSeconds,
  generateEncryptionKey,
  parseAppMessage,
  signInvocation,
  systemClock,
} from '@pushprov/protocol';
import { createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { deviceKeyFromJwk } from '@pushprov/wallet-sdk/device-key';
import { type Fixture, ISSUER_ID, SERVICE_ID, WALLET_PROVIDER_ID, createBenchIdentifiers } from '../lib/fixture.js';
import { mapConcurrent, runClosedLoop } from '../lib/load.js';
import { type Task, measurePaired } from '../lib/paired.js';
import type { BenchParams } from '../lib/params.js';
import type { BenchRow } from '../lib/report.js';
import { type FloorTasks, pairedRow } from './floor.js';

/**
 * The issuer SDK building a provisioning request on the backend
 * (`createProvisioningRequestBuilder().buildRequest`: identifiers checked,
 * card looked up and checked, claims bound, signed, encrypted). The token
 * service key set comes from an injected fetch, cached after the first call.
 */
async function runIssuer(fx: Fixture, params: BenchParams, floor: Task): Promise<BenchRow[]> {
  const jwks = JSON.stringify({ keys: [fx.serviceEncryptionKey] });
  const builder = createProvisioningRequestBuilder<{ id: string }>({
    issuerId: ISSUER_ID,
    signingKey: fx.issuer.privateJwk,
    tokenService: {
      audience: SERVICE_ID,
      jwksUrl: 'https://ts-bench.example/.well-known/jwks.json',
      fetch: async () => ({ ok: true, status: 200, headers: { get: (name) => (name.toLowerCase() === 'content-type' ? 'application/json' : null) }, text: async () => jwks }),
    },
    walletProviders: [WALLET_PROVIDER_ID],
    lookupCard: (accountRef) => (accountRef === 'acc-bench' ? fx.card : null),
  });
  const identifiers = Array.from({ length: 256 }, (_, i) => createBenchIdentifiers(i));
  const task = async (i: number) => {
    const message = await builder.buildRequest({ accountRef: 'acc-bench', identifiers: identifiers[i % identifiers.length]!, user: { id: 'u' } });
    if (message.encryptedRequest!.length < 100) throw new Error('no request');
  };
  await runClosedLoop({ count: params.warmup, concurrency: params.manyInFlight, task });
  const rows: BenchRow[] = [];
  for (const [concurrency, count] of [
    [1, params.sequential],
    [params.manyInFlight, params.concurrent],
  ] as const) {
    const paired = await measurePaired({ floorTask: floor, runSubject: (n, c) => runClosedLoop({ count: n, concurrency: c, task }), count, concurrency, rounds: params.rounds });
    rows.push(
      pairedRow(
        { id: `sdk.issuer.c${concurrency}`, section: 'sdk', label: `issuer SDK buildRequest (backend), ${concurrency} in flight`, floor: `floor.issuer.c${concurrency}` },
        paired,
      ),
    );
  }
  return rows;
}

/**
 * The issuer app's side, scripted: delivers the invocation as text, answers
 * the wallet's identifiers with a provisioning request, and resolves when the
 * wallet sends its result. What the wallet sends is taken as is (no
 * serialisation); what it receives is parsed by `parseAppMessage`, as a real
 * channel does on the wallet's side. Messages are delivered once the wallet
 * listens (in a microtask, like a real event), never queued before: see the
 * note on `waitForMessage` in the bench README section.
 */
class ScriptedIssuerChannel extends BaseAppChannel {
  readonly done: Promise<AppMessage>;
  private finish!: (message: AppMessage) => void;
  private pending: string[];

  constructor(
    invocationWire: string,
    private readonly requestWire: (sessionId: string) => string,
  ) {
    super();
    this.pending = [invocationWire];
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  override subscribe(...args: Parameters<BaseAppChannel['subscribe']>): () => void {
    const unsubscribe = super.subscribe(...args);
    if (this.pending.length > 0) {
      const wires = this.pending;
      this.pending = [];
      queueMicrotask(() => {
        for (const wire of wires) this.deliver(parseAppMessage(wire));
      });
    }
    return unsubscribe;
  }

  async send(message: AppMessage): Promise<void> {
    this.assertOpen();
    if (message.type === 'identifiers') this.pending.push(this.requestWire(message.sessionId));
    else if (message.type === 'result') this.finish(message);
  }
}

/**
 * The wallet SDK's work without the network: a whole `handleInvocation`
 * (invocation parsed, signature verified against the trust list, expiry and
 * replay checked, identifiers built and validated, submission built, the
 * answer parsed, access data decrypted with the device key and checked,
 * token stored, result sent). The token service is a stub that answers at
 * once with access data encrypted to the device key ahead of time.
 */
export async function runWallet(fx: Fixture, params: BenchParams, floor: Task): Promise<BenchRow[]> {
  const device = await generateEncryptionKey({ kid: 'device-bench' });
  const accessData: AccessData = {
    tokenReferenceId: 'tok_bench0000000000000000',
    tokenNumber: '4895370000000007',
    tokenExpiry: { month: 12, year: fx.card.expiry.year },
    status: 'active',
    panLast4: '1111',
    issuerId: ISSUER_ID,
    network: 'visa',
    issuedAt: epochSeconds(systemClock),
  };
  const { kty, crv, x, y } = device.publicJwk;
  const encryptedAccessData = await encryptAccessData(accessData, { kty: kty as 'EC', crv: crv as 'P-256', x: x!, y: y! });
  const tokenStore = createMemoryTokenStore();
  const wallet = createWallet({
    identity: () => ({ walletProviderId: WALLET_PROVIDER_ID, walletAccountId: 'user-1', deviceId: 'device-bench-1' }),
    consent: () => true,
    tokenService: {
      submit: async (submission): Promise<ProvisioningResponse> => ({
        type: 'provisioning-response',
        version: 1,
        sessionId: submission.sessionId,
        tokenReferenceId: accessData.tokenReferenceId,
        status: 'active',
        encryptedAccessData,
      }),
      getTokenStatus: () => Promise.reject(new Error('not used')),
    },
    tokenStore,
    trustedIssuers: { [ISSUER_ID]: { keys: [fx.issuer.publicJwk] } },
    deviceKey: deviceKeyFromJwk(device),
  });
  // Signed invocations, one per session (the wallet refuses a session twice): issuer-side work, done before timing.
  const total = params.warmup + params.rounds * (Math.ceil(params.sequential / params.rounds) + Math.ceil(params.concurrent / params.rounds));
  const now = epochSeconds(systemClock);
  const invocations = await mapConcurrent(total, 64, async () => {
    const invocation: Invocation = {
      type: 'invocation',
      version: 1,
      sessionId: createSessionId(),
      issuerId: ISSUER_ID,
      account: { last4: '1111', network: 'visa', productName: 'Bench Card', issuerName: 'Bench Bank' },
      iat: now,
      exp: now + 600,
    };
    return JSON.stringify(await signInvocation(invocation, fx.issuer.privateJwk));
  });
  const requestWire = (sessionId: string) =>
    JSON.stringify({ type: 'provisioning-request', version: 1, sessionId, encryptedRequest: 'eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.a.b.c.d' });
  let used = 0;
  const task = async () => {
    const channel = new ScriptedIssuerChannel(invocations[used++]!, requestWire);
    const outcome = await wallet.handleInvocation(channel, { timeoutMs: 60_000 });
    if (outcome.status !== 'provisioned') throw 'error' in outcome ? outcome.error : new Error(`wallet outcome ${outcome.status}`);
    await channel.done;
    channel.close();
  };
  await runClosedLoop({ count: params.warmup, concurrency: params.manyInFlight, task });
  const rows: BenchRow[] = [];
  for (const [concurrency, count] of [
    [1, params.sequential],
    [params.manyInFlight, params.concurrent],
  ] as const) {
    const paired = await measurePaired({ floorTask: floor, runSubject: (n, c) => runClosedLoop({ count: n, concurrency: c, task }), count, concurrency, rounds: params.rounds });
    rows.push(
      pairedRow(
        { id: `sdk.wallet.c${concurrency}`, section: 'sdk', label: `wallet SDK handleInvocation (no network), ${concurrency} in flight`, floor: `floor.wallet.c${concurrency}` },
        paired,
      ),
    );
  }
  return rows;
}

/** Section 2: the SDKs against the floor. */
export async function runSdk(fx: Fixture, params: BenchParams, floor: FloorTasks): Promise<BenchRow[]> {
  return [...(await runIssuer(fx, params, floor.issuer)), ...(await runWallet(fx, params, floor.wallet))];
}
