import { type ProvisioningError, createSessionId, isErrorCode, parseProblemDetails } from '@pushprov/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPopupWalletChannel } from '../src/browser.js';
import { createIssuerBackendHandler, type ProvisioningRequestBuilder } from '../src/server.js';
import { ACCOUNT, CARD, identifiers, rejectedCodes, setup } from './support/fixtures.js';
import { FakeWindow } from './support/fake-window.js';
import { TEST_PAN } from './support/pan-guard.js';

/** JSON-ish values near the real body, mutated: the interesting inputs for a strict parser. */
const nearBody = fc.oneof(
  fc.string(),
  fc.json(),
  fc.record({ type: fc.constantFrom('build-request', 'sign-invocation', 'x'), version: fc.constantFrom(1, 2, '1'), accountRef: fc.string() }).map((o) => JSON.stringify({ ...o, identifiers: identifiers() })),
  fc.dictionary(fc.string(), fc.jsonValue()).map((o) => JSON.stringify({ type: 'build-request', version: 1, accountRef: 'acc_1', identifiers: { ...identifiers(), ...o } })),
);

describe('properties', () => {
  it('the backend handler answers any body with a 4xx problem carrying a protocol code, never a 5xx or a PAN', async () => {
    let built = 0;
    const builder: ProvisioningRequestBuilder<{ id: string }> = {
      buildRequest: async (input) => {
        built++;
        return { type: 'provisioning-request', version: 1, sessionId: input.identifiers.sessionId, encryptedRequest: 'a.b.c.d.e' };
      },
      signInvocation: async (input) => ({ ...input.invocation, signature: 'a.b.c' }),
      tokenServiceKeys: { getKeys: async () => ({ keys: [] }), getEncryptionKey: async () => Promise.reject(new Error('unused')), getSigningKey: async () => Promise.reject(new Error('unused')), refresh: async () => ({ keys: [] }) },
    };
    const handler = createIssuerBackendHandler({ builder, authenticate: () => ({ id: 'alice' }) });
    await fc.assert(
      fc.asyncProperty(nearBody, async (body) => {
        const response = await handler(new Request('https://bank.example/api', { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
        const text = await response.text();
        expect(text).not.toContain(TEST_PAN);
        if (response.status === 200) return;
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(isErrorCode(parseProblemDetails(text).code)).toBe(true);
      }),
      { numRuns: 300 },
    );
    // The valid-shaped bodies did reach the builder: the property is not vacuous.
    expect(built).toBeGreaterThan(0);
  });

  it('the popup channel turns any message data into a message or a typed error, never a throw', async () => {
    const win = new FakeWindow();
    const channel = createPopupWalletChannel({ walletUrl: 'https://wallet.example/push', allowedWalletOrigins: ['https://wallet.example'], window: win });
    const errors: ProvisioningError[] = [];
    let delivered = 0;
    channel.subscribe(
      () => delivered++,
      (e) => errors.push(e),
    );
    channel.open();
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.json(), fc.string()), fc.constantFrom('https://wallet.example', 'https://wallet.example.evil', 'null'), (data, origin) => {
        const before = errors.length + delivered;
        win.dispatch({ origin, source: win.popup, data });
        expect(errors.length + delivered).toBe(before + 1);
      }),
      { numRuns: 500 },
    );
    expect(errors.every((e) => isErrorCode(e.code))).toBe(true);
  });

  it('a live session survives any wire text injected into its channel, and still completes', async () => {
    const { issuer, pair, wallet, events } = await setup();
    const session = issuer.startProvisioning({ account: ACCOUNT, card: CARD, wallet: pair.issuer });
    session.subscribe((e) => events.push(e));
    const invocation = await wallet.receiveInvocation();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.constantFrom('identifiers', 'result', 'invocation').map((type) => JSON.stringify({ type, version: 1, sessionId: createSessionId(), status: 'failed' })),
        ),
        (wire) => {
          pair.issuer.receiveWire(wire);
        },
      ),
      { numRuns: 300 },
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(session.state).toBe('invoked');
    expect(rejectedCodes(events).length).toBeGreaterThan(0);
    await wallet.sendIdentifiers();
    await wallet.receiveRequest();
    await wallet.sendResult('provisioned');
    await expect(session.outcome).resolves.toMatchObject({ sessionId: invocation.sessionId, status: 'provisioned' });
  });
});
