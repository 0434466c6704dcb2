// Bad input carrying the canary PAN, in process: the token service's
// `submit` (the library, not the HTTP layer) and the wallet's HTTP client
// throw typed errors with exactly their code, and the canary is in none of
// them: not in the message, the JSON form, the details, the inspected form
// (what console.log prints) or the cause chain. Nothing is stored, but for
// the refusals that stick (the card checks, the decision): their jti.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorCode, createSessionId } from '@pushprov/protocol';
import { type TokenService, createMemoryStore, createTokenService } from '@pushprov/token-service';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';
import { CANARY_PAN } from '../src/canary.js';
import { expectTypedRejection } from '../src/expectations.js';
import { CANARY_CARD, type Sandbox, WALLET, buildRequest, createSandbox } from '../src/sandbox.js';

let sb: Sandbox;
let service: TokenService;

beforeAll(async () => {
  sb = await createSandbox();
  service = createTokenService(sb.config, createMemoryStore(), { clock: sb.clock });
});

/** How many requests a refusal that sticks has burnt so far (their jti, and nothing else). */
let burnt = 0;

afterEach(async () => {
  expect(await service.store.tokens.count()).toBe(0);
  expect(await service.store.replay.count()).toBe(burnt);
  expect(await service.store.idempotency.count()).toBe(0);
});

const GROUPED = CANARY_PAN.replace(/(\d{4})(?=\d)/g, '$1 ');

async function refuseInProcess(code: ErrorCode, submission: unknown) {
  await expectTypedRejection(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: `k-${createSessionId()}` }), code);
}

describe('the token service library, with the canary in the input', () => {
  it('the canary as the wallet account id of a request bound to another account: wallet_account_mismatch', async () => {
    const { submission } = await buildRequest(sb);
    await refuseInProcess('wallet_account_mismatch', { ...submission, walletAccountId: CANARY_PAN });
  });

  it('the canary, grouped, as the device id: invalid_message', async () => {
    const { submission } = await buildRequest(sb);
    await refuseInProcess('invalid_message', { ...submission, deviceId: GROUPED });
  });

  it('the canary as an unknown member name: invalid_message', async () => {
    const { submission } = await buildRequest(sb);
    await refuseInProcess('invalid_message', { ...submission, [CANARY_PAN]: true });
  });

  it('the canary as the version: unsupported_version', async () => {
    const { submission } = await buildRequest(sb);
    await refuseInProcess('unsupported_version', { ...submission, version: CANARY_PAN });
  });

  it('the canary as the encrypted request: jwe_header_rejected', async () => {
    const { submission } = await buildRequest(sb);
    await refuseInProcess('jwe_header_rejected', { ...submission, encryptedRequest: CANARY_PAN });
  });

  it('the canary card, expired: card_expired', async () => {
    const { body } = await buildRequest(sb, { card: { ...CANARY_CARD, expiry: { month: 1, year: 2027 } } });
    await refuseInProcess('card_expired', body);
    burnt++;
  });

  it('the canary as a number in the signed claims: invalid_claims', async () => {
    const { body } = await buildRequest(sb, { claims: (c) => ({ ...c, card: { ...CANARY_CARD, pan: Number(CANARY_PAN) } }) });
    await refuseInProcess('invalid_claims', body);
  });

  it('the canary as the cardholder name: invalid_claims', async () => {
    const { body } = await buildRequest(sb, { claims: (c) => ({ ...c, card: { ...CANARY_CARD, cardholderName: `${GROUPED}\u0000` } }) });
    await refuseInProcess('invalid_claims', body);
  });

  it('the canary as the jti: invalid_claims', async () => {
    const { body } = await buildRequest(sb, { claims: (c) => ({ ...c, jti: CANARY_PAN }) });
    await refuseInProcess('invalid_claims', body);
  });

  it('the canary as the wallet provider of the caller: unauthenticated', async () => {
    const { submission } = await buildRequest(sb);
    await expectTypedRejection(service.submit({ submission, walletProviderId: CANARY_PAN, idempotencyKey: 'k-1' }), 'unauthenticated');
  });

  it('the canary as the idempotency key, with a non-printable byte: invalid_idempotency_key', async () => {
    const { submission } = await buildRequest(sb);
    await expectTypedRejection(service.submit({ submission, walletProviderId: WALLET, idempotencyKey: `${CANARY_PAN}\u0001` }), 'invalid_idempotency_key');
  });
});

describe("the wallet's HTTP client, facing a hostile token service", () => {
  const client = (answer: { status: number; body: string; contentType?: string }) =>
    createHttpTokenServiceClient({
      baseUrl: 'https://tokens.example',
      auth: { apiKey: 'wallet-sec-api-key-6f1c0b3e9d2a4c58b7e1' },
      maxRetries: 0,
      fetch: async () => ({
        status: answer.status,
        headers: new Headers({ 'content-type': answer.contentType ?? 'application/json' }),
        text: async () => answer.body,
      }),
    });

  it('a 201 whose body holds the canary where the access data should be: invalid_message, the canary nowhere', async () => {
    const { submission } = await buildRequest(sb);
    const body = JSON.stringify({ type: 'provisioning-response', version: 1, sessionId: submission.sessionId, tokenReferenceId: 'tok_1', status: 'active', accessData: { pan: CANARY_PAN } });
    await expectTypedRejection(client({ status: 201, body }).submit(submission, { idempotencyKey: 'idem-00000001' }), 'invalid_message');
  });

  it('problem details whose detail carries the canary: the code is kept, the canary is not', async () => {
    const { submission } = await buildRequest(sb);
    const body = JSON.stringify({ type: 'https://pushprov.dev/problems/declined', title: 'x', status: 403, code: 'declined', retryable: false, detail: `card ${CANARY_PAN} declined` });
    await expectTypedRejection(client({ status: 403, body, contentType: 'application/problem+json' }).submit(submission, { idempotencyKey: 'idem-00000002' }), 'declined');
  });

  it('a 500 page quoting the canary: server_error, the canary nowhere', async () => {
    const { submission } = await buildRequest(sb);
    await expectTypedRejection(
      client({ status: 500, body: `<html>Internal error for ${CANARY_PAN}</html>`, contentType: 'text/html' }).submit(submission, { idempotencyKey: 'idem-00000003' }),
      'server_error',
    );
  });
});
