// Attempts racing on two token service instances that share one PostgreSQL
// database: exactly `verification.maxAttempts` codes are ever counted for a
// token and method, and the attempt after the last allowed is refused even
// with the right code (docs/protocol.md section 11.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VerificationMethod, luhnCheckDigit, parseProvisioningResponse } from '@pushprov/protocol';
import { migratePostgres, openPostgresStore } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import type { VerificationCodeContext } from '../src/service/hooks.js';
import type { TokenServiceStore } from '../src/store/types.js';
import { testDatabaseUrl } from '../../../test/support/postgres.js';
import { API_KEY, type Fixture, buildSubmission, createFixture, postSubmission } from './helpers.js';

const METHODS: VerificationMethod[] = [{ id: 'sms', type: 'otp_sms', destination: '•••• 0199' }];
const MAX = 5;

describe('verification attempts racing on two instances sharing one PostgreSQL database', () => {
  let fx: Fixture;
  let servers: RunningTokenServer[];
  let store: TokenServiceStore;
  const outbox: VerificationCodeContext[] = [];
  let n = 0;

  beforeAll(async () => {
    fx = await createFixture();
    const url = await testDatabaseUrl();
    await migratePostgres(url);
    const start = () =>
      startTokenServer({
        config: { ...fx.config, verification: { maxAttempts: MAX } },
        storeUrl: url,
        clock: fx.clock,
        purgeIntervalMs: 0,
        logger: { info() {}, error() {} },
        decide: () => ({ decision: 'step_up', methods: METHODS }),
        sendVerificationCode: (context) => {
          outbox.push(context);
        },
      });
    servers = [await start(), await start()];
    store = await openPostgresStore(url, { max: 2 });
  });
  afterAll(async () => {
    await store.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  const activate = (i: number, ref: string, code: string) =>
    fetch(`${servers[i % 2]!.url}/v1/tokens/${ref}/activation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': `race-${ref}-${i}` },
      body: JSON.stringify({ type: 'activation-request', version: 1, methodId: 'sms', code }),
    });

  /** A pending token with a code sent; returns its reference, the code and a wrong code. */
  const pendingWithCode = async () => {
    const body = `41111100${String(++n).padStart(4, '0')}001`;
    const { submission } = await buildSubmission(fx, { card: { pan: `${body}${luhnCheckDigit(body)}`, expiry: { month: 12, year: 2030 } } });
    const ref = parseProvisioningResponse(await (await postSubmission(servers[0]!.url, submission)).text()).tokenReferenceId;
    const started = await fetch(`${servers[1]!.url}/v1/tokens/${ref}/verification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': `v-${ref}` },
      body: JSON.stringify({ type: 'verification-request', version: 1, methodId: 'sms' }),
    });
    expect(started.status).toBe(200);
    const code = outbox.find((m) => m.tokenReferenceId === ref)!.code;
    return { ref, code, wrong: code === '000000' ? '111111' : '000000' };
  };

  it('counts exactly the maximum of 24 racing wrong codes; the right code is refused after', async () => {
    const { ref, code, wrong } = await pendingWithCode();
    const responses = await Promise.all(Array.from({ length: 24 }, (_, i) => activate(i, ref, wrong)));
    const codes = await Promise.all(responses.map(async (r) => ((await r.json()) as { code: string }).code));
    expect(codes.filter((c) => c === 'verification_code_invalid')).toHaveLength(MAX);
    expect(codes.filter((c) => c === 'verification_attempts_exhausted')).toHaveLength(24 - MAX);
    expect((await store.verification.find(ref, 'sms'))?.attempts).toBe(MAX);
    const last = await activate(100, ref, code);
    expect(last.status).toBe(403);
    expect(((await last.json()) as { code: string }).code).toBe('verification_attempts_exhausted');
    expect((await store.tokens.find(ref))?.status).toBe('pending_activation');
  });

  it('lets at most one of racing right and wrong codes count past the last allowed attempt', async () => {
    const { ref, code, wrong } = await pendingWithCode();
    for (let i = 0; i < MAX - 1; i++) expect((await activate(i, ref, wrong)).status).toBe(422);
    // one attempt left: 8 right and 8 wrong codes race on both instances
    const responses = await Promise.all(Array.from({ length: 16 }, (_, i) => activate(10 + i, ref, i % 2 === 0 ? code : wrong)));
    const outcomes = await Promise.all(responses.map(async (r) => (r.status === 200 ? 'active' : ((await r.json()) as { code: string }).code)));
    const counted = outcomes.filter((o) => o === 'active' || o === 'verification_code_invalid');
    expect(counted).toHaveLength(1);
    // the others: no attempt left, or (once the right code won) the token active and its code gone
    const others = [...outcomes];
    others.splice(outcomes.findIndex((o) => o === counted[0]), 1);
    const allowed = counted[0] === 'active' ? ['verification_attempts_exhausted', 'token_not_pending', 'verification_method_unavailable'] : ['verification_attempts_exhausted'];
    for (const o of others) expect(allowed).toContain(o);
    const token = await store.tokens.find(ref);
    expect(token?.status).toBe(counted[0] === 'active' ? 'active' : 'pending_activation');
    if (counted[0] !== 'active') expect((await store.verification.find(ref, 'sms'))?.attempts).toBe(MAX);
  });

  it('activates once when the right code races on both instances', async () => {
    const { ref, code } = await pendingWithCode();
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => activate(200 + i, ref, code)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    const others = await Promise.all(responses.filter((r) => r.status !== 200).map(async (r) => ((await r.json()) as { code: string }).code));
    // the others found the token active, its code gone with the activation, or (10 racing, 5 allowed) no attempt left
    for (const c of others) expect(['token_not_pending', 'verification_method_unavailable', 'verification_code_invalid', 'verification_attempts_exhausted']).toContain(c);
    expect((await store.tokens.find(ref))?.status).toBe('active');
  });
});
