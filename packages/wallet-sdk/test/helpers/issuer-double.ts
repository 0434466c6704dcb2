/**
 * An issuer app double built only on the protocol package: it invokes the
 * wallet over an app channel, waits for the identifiers, seals a provisioning
 * request bound to them, device key included as `cnf.jkt`
 * (`deviceKeyThumbprint` + `createRequestClaims` + `sealProvisioningRequest`),
 * delivers it and waits for the result.
 */
import {
  type AppChannel,
  type Card,
  type Clock,
  type Identifiers,
  type Invocation,
  type JwkPair,
  type KeyJwk,
  type RandomSource,
  type Result,
  createRequestClaims,
  createSessionId,
  deviceKeyThumbprint,
  epochSeconds,
  sealProvisioningRequest,
  signInvocation,
  waitForMessage,
} from '@pushprov/protocol';

export const CANARY_PAN = '4111111111111111';
export const CARD: Card = { pan: CANARY_PAN, expiry: { month: 12, year: 2031 }, cardholderName: 'Ada Lovelace' };

export interface IssuerDoubleOptions {
  issuerId: string;
  signingKey: JwkPair;
  /** The token service's public encryption key. */
  serviceKey: KeyJwk;
  audience: string;
  clock: Clock;
  random?: RandomSource;
}

export function createIssuerDouble(options: IssuerDoubleOptions) {
  const wait = { timeoutMs: 10_000 };
  return {
    /** A signed invocation (or unsigned with `sign: false`). */
    async invocation(overrides: Partial<Invocation> = {}, sign = true): Promise<Invocation> {
      const iat = epochSeconds(options.clock);
      const invocation: Invocation = {
        type: 'invocation',
        version: 1,
        sessionId: createSessionId(options.random),
        issuerId: options.issuerId,
        account: { last4: CANARY_PAN.slice(-4), network: 'visa', productName: 'Everyday Debit', issuerName: 'Bank A' },
        iat,
        exp: iat + 300,
        ...overrides,
      };
      return sign ? signInvocation(invocation, options.signingKey.privateJwk) : invocation;
    },
    waitForIdentifiers(channel: AppChannel, sessionId: string): Promise<Identifiers> {
      return waitForMessage(channel, (m): m is Identifiers => m.type === 'identifiers' && m.sessionId === sessionId, wait);
    },
    waitForResult(channel: AppChannel, sessionId: string): Promise<Result> {
      return waitForMessage(channel, (m): m is Result => m.type === 'result' && m.sessionId === sessionId, wait);
    },
    /** Seals a provisioning request bound to the identifiers (and their device key, as cnf.jkt). */
    async seal(identifiers: Identifiers, card: Card = CARD): Promise<string> {
      const claims = createRequestClaims({
        issuerId: options.issuerId,
        audience: options.audience,
        identifiers,
        deviceKeyThumbprint: identifiers.devicePublicKey && (await deviceKeyThumbprint(identifiers.devicePublicKey)),
        card,
        clock: options.clock,
        ...(options.random && { random: options.random }),
      });
      return sealProvisioningRequest({ claims, signingKey: options.signingKey.privateJwk, encryptionKey: options.serviceKey });
    },
    /** The whole issuer side of a session: invoke, identify, build, deliver, wait for the result. */
    async run(channel: AppChannel, invocation?: Invocation): Promise<{ invocation: Invocation; identifiers: Identifiers; result: Result }> {
      const inv = invocation ?? (await this.invocation());
      const identifiersPromise = this.waitForIdentifiers(channel, inv.sessionId);
      await channel.send(inv);
      const identifiers = await identifiersPromise;
      const resultPromise = this.waitForResult(channel, inv.sessionId);
      await channel.send({ type: 'provisioning-request', version: 1, sessionId: inv.sessionId, encryptedRequest: await this.seal(identifiers) });
      return { invocation: inv, identifiers, result: await resultPromise };
    },
  };
}
