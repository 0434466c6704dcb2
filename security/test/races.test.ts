// Races over loopback HTTP with SQLite: twenty different requests (new
// session, nonce and jti each) for the same card, wallet account and device,
// all in flight at once, issue exactly one token; every other answer is that
// same token (200), never a second one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProvisioningResponse } from '@pushprov/protocol';
import { countRows } from '../src/database.js';
import { type Harness, startHarness } from '../src/harness.js';
import { postSubmission } from '../src/http.js';
import { type Sandbox, buildRequest, createIdentifiers, createSandbox } from '../src/sandbox.js';

let sb: Sandbox;
let h: Harness;

beforeAll(async () => {
  sb = await createSandbox();
  h = await startHarness(sb);
});
afterAll(() => h?.dispose());

describe('the same card to the same wallet account and device, twenty requests at once', () => {
  it('issues exactly one token; the other nineteen get that token (200)', async () => {
    const requests = await Promise.all(
      Array.from({ length: 20 }, () => buildRequest(sb, { identifiers: createIdentifiers({ walletAccountId: 'user-race', deviceId: 'device-race' }) })),
    );
    const before = countRows(h.dbPath);
    const answers = await Promise.all(requests.map(({ submission }) => postSubmission(h.url, submission)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array<number>(19).fill(200), 201]);
    const bodies = answers.map((a) => parseProvisioningResponse(a.text));
    expect(new Set(bodies.map((b) => b.tokenReferenceId)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.accessData!.tokenNumber)).size).toBe(1);
    expect(bodies.map((b) => b.sessionId).sort()).toEqual(requests.map((r) => r.submission.sessionId).sort());
    // One issuance (with its history row, outbox event and two deliveries); nineteen answers of the same token.
    expect(countRows(h.dbPath)).toEqual({
      ...before,
      tokens: before.tokens! + 1,
      vault: before.vault! + 1,
      replay: before.replay! + 20,
      idempotency: before.idempotency! + 20,
      token_history: before.token_history! + 1,
      events: before.events! + 1,
      deliveries: before.deliveries! + 2,
    });
  });
});
