// Sandbox mode over real HTTP: the test cards pick the path by card number,
// the sandbox sender's codes are read from GET /sandbox/inbox, which exists
// only in sandbox mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIssuerAssertion, isValidPan, parseProvisioningResponse, parseTokenStatusResponse } from '@pushprov/protocol';
import { SANDBOX_CARDS } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { API_KEY, SERVICE_ID, type Fixture, buildSubmission, createFixture, createTempDir, postSubmission } from './helpers.js';

/** A Luhn-valid PAN of the fixture's issuer range (411111) ending in `last4`. */
export function panEnding(last4: string, salt = 0): string {
  for (let x = salt * 1000; ; x++) {
    const pan = `411111${String(x).padStart(6, '0')}${last4}`;
    if (isValidPan(pan)) return pan;
  }
}

const card = (last4: string) => ({ pan: panEnding(last4), expiry: { month: 12, year: 2030 } });
const json = async (response: Response) => (await response.json()) as Record<string, unknown>;

describe('sandbox mode', () => {
  let fx: Fixture;
  let sandbox: RunningTokenServer;
  let plain: RunningTokenServer;
  const temp = createTempDir('sandbox-');

  beforeAll(async () => {
    fx = await createFixture();
    // The issuer's own rules would win over the test cards: none here.
    const config = { ...fx.config, issuers: fx.config.issuers.map(({ decision: _decision, ...issuer }) => issuer) };
    const options = { config, clock: fx.clock, purgeIntervalMs: 0, logger: { info() {}, error() {} } };
    sandbox = await startTokenServer({ ...options, dbPath: `${temp.dir}/sandbox.db`, sandbox: true });
    plain = await startTokenServer({ ...options, dbPath: `${temp.dir}/plain.db` });
  });
  afterAll(async () => {
    await Promise.all([sandbox.close(), plain.close()]);
    temp.remove();
  });

  const provision = async (last4: string, url = sandbox.url) => postSubmission(url, (await buildSubmission(fx, { card: card(last4) })).submission);
  const inbox = async (ref: string) => (await json(await fetch(`${sandbox.url}/sandbox/inbox?tokenReferenceId=${ref}`))) as { messages: { methodId: string; code: string; destination?: string }[] };
  const post = (path: string, body: unknown, authorization = `Bearer ${API_KEY}`) =>
    fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization, 'idempotency-key': `k-${Math.random()}` }, body: JSON.stringify(body) });

  it('lists Luhn-valid example PANs whose last four digits are the card', () => {
    for (const c of SANDBOX_CARDS) {
      expect(isValidPan(c.pan), c.pan).toBe(true);
      expect(c.pan.slice(-4)).toBe(c.last4);
    }
    expect(new Set(SANDBOX_CARDS.map((c) => c.last4)).size).toBe(SANDBOX_CARDS.length);
  });

  it('approves 0010, declines 0002 and refuses 0085 as not eligible', async () => {
    expect(parseProvisioningResponse(await (await provision('0010')).text()).status).toBe('active');
    expect((await json(await provision('0002'))).code).toBe('declined');
    expect((await json(await provision('0085'))).code).toBe('card_not_eligible');
    // outside sandbox mode the same cards take the issuer's default (approve)
    expect(parseProvisioningResponse(await (await provision('0085', plain.url)).text()).status).toBe('active');
  });

  it.each([
    ['0028', ['otp_sms']],
    ['0036', ['otp_email']],
    ['0044', ['issuer_app']],
    ['0051', ['customer_service']],
    ['0069', ['otp_sms', 'otp_email', 'issuer_app', 'customer_service']],
  ])('steps %s up with the methods %j, and each one activates', async (last4, types) => {
    const response = parseProvisioningResponse(await (await provision(last4)).text());
    expect(response.status).toBe('pending_activation');
    expect(response.verification!.methods.map((m) => m.type)).toEqual(types);
    const method = response.verification!.methods[0]!;
    const ref = response.tokenReferenceId;
    if (method.type === 'otp_sms' || method.type === 'otp_email') {
      expect((await post(`/v1/tokens/${ref}/verification`, { type: 'verification-request', version: 1, methodId: method.id })).status).toBe(200);
      const { messages } = await inbox(ref);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ methodId: method.id, destination: method.destination });
      const activated = await post(`/v1/tokens/${ref}/activation`, { type: 'activation-request', version: 1, methodId: method.id, code: messages[0]!.code });
      expect(parseTokenStatusResponse(await activated.text()).status).toBe('active');
    } else {
      const authorization = `Bearer ${await createIssuerAssertion({ issuerId: 'bank-a', audience: SERVICE_ID, signingKey: fx.issuer.privateJwk, clock: fx.clock })}`;
      const activated = await post(`/v1/issuer/tokens/${ref}/activation`, { type: 'issuer-activation', version: 1, method: method.type }, authorization);
      expect(parseTokenStatusResponse(await activated.text()).status).toBe('active');
    }
  });

  it('delivers an always wrong code for 0077, until the method is locked', async () => {
    const response = parseProvisioningResponse(await (await provision('0077')).text());
    const ref = response.tokenReferenceId;
    const methodId = response.verification!.methods[0]!.id;
    expect((await post(`/v1/tokens/${ref}/verification`, { type: 'verification-request', version: 1, methodId })).status).toBe(200);
    const { code } = (await inbox(ref)).messages[0]!;
    for (const left of [4, 3, 2, 1, 0]) {
      expect(await json(await post(`/v1/tokens/${ref}/activation`, { type: 'activation-request', version: 1, methodId, code }))).toMatchObject({ code: 'verification_code_invalid', attemptsLeft: left });
    }
    expect((await json(await post(`/v1/tokens/${ref}/activation`, { type: 'activation-request', version: 1, methodId, code }))).code).toBe('verification_attempts_exhausted');
  });

  it('serves the inbox only in sandbox mode', async () => {
    const empty = await fetch(`${sandbox.url}/sandbox/inbox?tokenReferenceId=tok_none`);
    expect(empty.status).toBe(200);
    expect(empty.headers.get('cache-control')).toBe('no-store');
    expect(await empty.json()).toEqual({ tokenReferenceId: 'tok_none', messages: [] });
    expect((await json(await fetch(`${sandbox.url}/sandbox/inbox`))).code).toBe('invalid_message');
    const absent = await fetch(`${plain.url}/sandbox/inbox?tokenReferenceId=tok_none`);
    expect(absent.status).toBe(404);
    expect((await absent.json()).code).toBe('not_found');
  });

  it('leaves OTP methods unavailable outside sandbox mode without a code sender', async () => {
    // The plain server steps a card up only by a hook; none here: the issuer default approves.
    const plainStepUp = await startTokenServer({
      config: fx.config,
      dbPath: `${temp.dir}/plain-step-up.db`,
      clock: fx.clock,
      purgeIntervalMs: 0,
      logger: { info() {}, error() {} },
      decide: () => ({ decision: 'step_up', methods: [{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }] }),
    });
    try {
      const response = parseProvisioningResponse(await (await provision('0028', plainStepUp.url)).text());
      const answer = await fetch(`${plainStepUp.url}/v1/tokens/${response.tokenReferenceId}/verification`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'k-1' },
        body: JSON.stringify({ type: 'verification-request', version: 1, methodId: 'sms' }),
      });
      expect((await json(answer)).code).toBe('verification_method_unavailable');
    } finally {
      await plainStepUp.close();
    }
  });
});

// One sandbox switch (docs/token-service-guide.md, "One sandbox switch"):
// `--sandbox` (the `sandbox` option) and the configuration's `"sandbox": true`
// each turn on every sandbox feature; with neither, every sandbox route is 404.
describe('one sandbox switch: either spelling turns on the test cards, the inbox and the inspector', () => {
  let fx: Fixture;
  const temp = createTempDir('sandbox-switch-');
  const servers: RunningTokenServer[] = [];
  beforeAll(async () => {
    fx = await createFixture();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    temp.remove();
  });

  const start = async (name: string, spelling: { option?: true; config?: true }) => {
    const config = {
      ...fx.config,
      issuers: fx.config.issuers.map(({ decision: _decision, ...issuer }) => issuer),
      ...(spelling.config ? { sandbox: true } : {}),
    };
    const server = await startTokenServer({
      config,
      clock: fx.clock,
      purgeIntervalMs: 0,
      logger: { info() {}, error() {} },
      dbPath: `${temp.dir}/${name}.db`,
      ...(spelling.option ? { sandbox: true } : {}),
    });
    servers.push(server);
    return server;
  };

  /** What of sandbox mode a server has: the test card 0002's decision, the inbox, the inspector page and its recent requests. */
  const features = async (server: RunningTokenServer) => {
    const declined = await postSubmission(server.url, (await buildSubmission(fx, { card: card('0002') })).submission);
    const inbox = await fetch(`${server.url}/sandbox/inbox?tokenReferenceId=tok_none`);
    const page = await fetch(`${server.url}/sandbox/inspector`);
    const recent = await fetch(`${server.url}/sandbox/inspector/requests`);
    await Promise.all([inbox.body?.cancel(), page.body?.cancel()]);
    return {
      testCards: declined.status === 403 && (await json(declined)).code === 'declined',
      inbox: inbox.status,
      inspector: page.status,
      recentRequests: recent.status === 200 ? ((await recent.json()) as { requests: unknown[] }).requests.length : recent.status,
    };
  };

  it('--sandbox (the option) alone: all of it, the inspector too', async () => {
    const server = await start('option', { option: true });
    expect(server.service.config.sandbox).toBe(true);
    expect(await features(server)).toEqual({ testCards: true, inbox: 200, inspector: 200, recentRequests: 1 });
  });

  it('"sandbox": true (the configuration) alone: all of it, the test cards and the inbox too', async () => {
    const server = await start('config', { config: true });
    expect(await features(server)).toEqual({ testCards: true, inbox: 200, inspector: 200, recentRequests: 1 });
  });

  it('both: the same', async () => {
    const server = await start('both', { option: true, config: true });
    expect(await features(server)).toEqual({ testCards: true, inbox: 200, inspector: 200, recentRequests: 1 });
  });

  it('neither: no test cards (the issuer default approves), and every sandbox route is 404', async () => {
    const server = await start('off', {});
    expect(server.service.config.sandbox).toBeUndefined();
    expect(await features(server)).toEqual({ testCards: false, inbox: 404, inspector: 404, recentRequests: 404 });
    const dryRun = await fetch(`${server.url}/sandbox/inspector/inspect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(dryRun.status).toBe(404);
  });

  it('a reload keeps a server started with --sandbox in sandbox mode, whatever the file says', async () => {
    const server = await start('reload', { option: true });
    await server.reload({ ...fx.config, issuers: fx.config.issuers.map(({ decision: _decision, ...issuer }) => issuer) });
    expect(server.service.config.sandbox).toBe(true);
    expect((await fetch(`${server.url}/sandbox/inspector`)).status).toBe(200);
    expect((await fetch(`${server.url}/sandbox/inbox?tokenReferenceId=tok_none`)).status).toBe(200);
  });
});
