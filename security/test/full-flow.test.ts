// The whole flow, with every package for real: the issuer page (issuer-sdk,
// popup channel, local request builder), the wallet page (wallet-sdk, opener
// channel, HTTP client) and the token service over loopback HTTP with SQLite,
// under attack by other windows at every step. Exactly one token results,
// bound to the real wallet, and the canary PAN is nowhere: not in any posted
// message, event, outcome, HTTP answer, log line, stored column or raw byte
// of the database files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProvisioningRequest, parseProvisioningRequestMessage } from '@pushprov/protocol';
import { type ProvisioningSessionEvent, createIssuerClient } from '@pushprov/issuer-sdk';
import { createPopupWalletChannel } from '@pushprov/issuer-sdk/browser';
import { createLocalRequestBuilder } from '@pushprov/issuer-sdk/local';
import { type WalletEvent, createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { createOpenerIssuerChannel } from '@pushprov/wallet-sdk/browser';
import { generatedDeviceKey } from '@pushprov/wallet-sdk/device-key';
import { type TokenServiceFetch, createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { CANARY_PAN, describe as describeValue, digitRuns } from '../src/canary.js';
import { countRows, readAllValues, readRawFiles } from '../src/database.js';
import { expectNoCanary } from '../src/expectations.js';
import { FakeBrowser, type FakeWindow, until } from '../src/fake-browser.js';
import { type Harness, startHarness } from '../src/harness.js';
import { API_KEY, CANARY_CARD, ISSUER_ID, SERVICE_ID, type Sandbox, WALLET, createIdentifiers, createSandbox } from '../src/sandbox.js';

const BANK = 'https://bank.example';
const WALLET_ORIGIN = 'https://wallet.example';

let sb: Sandbox;
let h: Harness;
/** Every token number the flows issued. */
const issuedNumbers: string[] = [];

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

/** A fetch that records every answer's status, headers and text. */
function recordingFetch(answers: string[]): TokenServiceFetch {
  return async (url, init) => {
    const response = await fetch(url, init);
    const text = await response.text();
    answers.push(`${response.status}\n${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`);
    return { status: response.status, headers: response.headers, text: async () => text };
  };
}

interface FlowOptions {
  deviceKey?: 'generate';
  auth: Parameters<typeof createHttpTokenServiceClient>[0]['auth'];
  attack?: (world: { browser: FakeBrowser; bank: FakeWindow; popup: FakeWindow; sessionId: string }) => void;
}

async function runFlow(options: FlowOptions) {
  const browser = new FakeBrowser();
  const bank = browser.window(BANK);
  const answers: string[] = [];
  const walletEvents: WalletEvent[] = [];
  const tokenStore = createMemoryTokenStore();
  const deviceId = `device-${createIdentifiers().nonce.slice(0, 8)}`;
  const wallet = createWallet({
    identity: () => ({ walletProviderId: WALLET, walletAccountId: 'user-7', deviceId }),
    consent: async () => true,
    tokenService: createHttpTokenServiceClient({ baseUrl: h.url, auth: options.auth, fetch: recordingFetch(answers), maxRetries: 0, clock: sb.clock }),
    tokenStore,
    clock: sb.clock,
    ...(options.deviceKey ? { deviceKey: generatedDeviceKey() } : {}),
  });
  let popup: FakeWindow | undefined;
  let walletOutcome: ReturnType<typeof wallet.handleInvocation> | undefined;
  bank.onOpen = () => {
    popup = browser.window(WALLET_ORIGIN);
    const channel = createOpenerIssuerChannel({ allowedIssuerOrigins: [BANK], window: popup });
    walletOutcome = wallet.handleInvocation(channel, { onEvent: (e) => walletEvents.push(e), timeoutMs: 20_000 });
    return popup;
  };
  const channel = createPopupWalletChannel({ walletUrl: `${WALLET_ORIGIN}/push`, allowedWalletOrigins: [WALLET_ORIGIN], window: bank });
  channel.open();
  const client = createIssuerClient({
    issuerId: ISSUER_ID,
    clock: sb.clock,
    // The bank page lets the session close the wallet popup when it ends (the default leaves it to the host).
    closeChannelOnEnd: true,
    requestSource: createLocalRequestBuilder({
      sandbox: true,
      issuerId: ISSUER_ID,
      signingKey: sb.issuer.privateJwk,
      tokenService: { audience: SERVICE_ID, jwks: { keys: [sb.serviceKey] } },
      clock: sb.clock,
    }),
  });
  const session = client.createSession({ account: { last4: '8290', network: 'visa' }, card: CANARY_CARD, wallet: channel });
  const issuerEvents: ProvisioningSessionEvent[] = [];
  session.subscribe((e) => issuerEvents.push(e));
  const before = countRows(h.dbPath);
  const logMark = h.logs.length;
  const completed = session.run();
  options.attack?.({ browser, bank, popup: popup!, sessionId: session.id });
  const outcome = await completed;
  const walletResult = await walletOutcome!;
  await until(() => channel.closed);
  return { browser, outcome, walletResult, walletEvents, issuerEvents, answers, tokenStore, before, logs: h.logs.slice(logMark), deviceId, sessionId: session.id };
}

/** Everything a flow produced that anyone could see. */
function everything(run: Awaited<ReturnType<typeof runFlow>>): string {
  return [
    JSON.stringify(run.browser.posts),
    describeValue(run.walletEvents),
    describeValue(run.walletResult),
    JSON.stringify(run.issuerEvents),
    JSON.stringify(run.outcome),
    run.answers.join('\n'),
    JSON.stringify(run.logs),
  ].join('\n');
}

describe('a provisioning under attack, end to end', () => {
  it('issues exactly one token, bound to the real wallet, and the canary PAN shows nowhere', async () => {
    const run = await runFlow({
      auth: { apiKey: API_KEY },
      attack: ({ browser, bank, sessionId }) => {
        // Another tab with the wallet's origin answers first, for the attacker's device.
        browser.window(WALLET_ORIGIN).postTo(bank, JSON.stringify(createIdentifiers({ sessionId, deviceId: 'device-attacker' })));
        // A lookalike origin does the same.
        browser.window('https://wallet.example.evil.test').postTo(bank, JSON.stringify(createIdentifiers({ sessionId, deviceId: 'device-lookalike' })));
        // A stray result for this session from a window that is not the popup.
        browser.window(WALLET_ORIGIN).postTo(bank, JSON.stringify({ type: 'result', version: 1, sessionId, status: 'declined', errorCode: 'declined' }));
      },
    });
    expect(run.outcome).toMatchObject({ state: 'completed', status: 'provisioned' });
    expect(run.walletResult.status).toBe('provisioned');
    const rejectedCodes = run.issuerEvents.filter((e) => e.type === 'message_rejected').map((e) => e.error.code);
    expect(rejectedCodes).toEqual(['origin_rejected', 'origin_rejected', 'origin_rejected']);
    // One issuance: its token, vault entry, replay and idempotency records, and (spec section 12) one history row,
    // one outbox event and one delivery for each of the two parties, in the same transaction.
    expect(countRows(h.dbPath)).toEqual({
      ...run.before,
      tokens: run.before.tokens! + 1,
      vault: run.before.vault! + 1,
      replay: run.before.replay! + 1,
      idempotency: run.before.idempotency! + 1,
      token_history: run.before.token_history! + 1,
      events: run.before.events! + 1,
      deliveries: run.before.deliveries! + 2,
    });

    const request = run.browser.posts.find((p) => typeof p.data === 'string' && p.data.includes('"provisioning-request"'))!;
    const { claims } = await openProvisioningRequest(parseProvisioningRequestMessage(request.data).encryptedRequest!, {
      decryptionKeys: sb.keySet.encryptionKeys,
      issuerKeys: () => sb.issuer.publicJwk,
      audience: SERVICE_ID,
      clock: sb.clock,
    });
    expect(claims.deviceId).toBe(run.deviceId);
    expect(claims.card?.pan).toBe(CANARY_PAN);

    const [stored] = await run.tokenStore.list();
    expect(stored!.accessData.panLast4).toBe('8290');
    issuedNumbers.push(stored!.accessData.tokenNumber);
    expectNoCanary(everything(run), 'the outputs of the flow');
    expectNoCanary(JSON.stringify(await run.tokenStore.list()), 'the wallet token store');
  });

  it('with a device key and a client assertion: the token number travels only encrypted to the device', async () => {
    const run = await runFlow({
      deviceKey: 'generate',
      auth: { walletProviderId: WALLET, audience: SERVICE_ID, signingKey: sb.walletSigning.privateJwk },
    });
    expect(run.walletResult.status).toBe('provisioned');
    const [stored] = await run.tokenStore.list();
    const tokenNumber = stored!.accessData.tokenNumber;
    issuedNumbers.push(tokenNumber);
    const seenOutside = everything(run);
    expect(seenOutside).not.toContain(tokenNumber);
    expect(seenOutside).toContain('encryptedAccessData');
    expectNoCanary(seenOutside, 'the outputs of the flow');
  });

  it('leaves neither the canary nor any token number in any stored column or raw byte of the database files', async () => {
    expect(issuedNumbers).toHaveLength(2);
    const scanRawFiles = () => {
      const files = readRawFiles(h.dbPath);
      for (const { file, bytes } of files) {
        expect(bytes.includes(CANARY_PAN), file).toBe(false);
        for (const number of issuedNumbers) expect(bytes.includes(number), `a token number in ${file}`).toBe(false);
        for (const run of digitRuns(bytes)) expect(run.startsWith('489537') && run.length >= 16, `a token-number-like run in ${file}`).toBe(false);
      }
      return files.map((f) => f.file.slice(h.dbPath.length));
    };
    expect(scanRawFiles()).toContain('-wal');
    const values = readAllValues(h.dbPath);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expectNoCanary(value.text, `${value.table}.${value.column}`);
    for (const number of issuedNumbers) expect(values.filter((v) => v.text.includes(number))).toEqual([]);
    await h.stop();
    expect(scanRawFiles()).toEqual(['']);
    await h.restart();
  });
});
