// A wallet (and token service) double built only on @pushprov/protocol: it
// answers an invocation with identifiers, receives the encrypted request,
// opens it with the token service key and proves the binding, then replies.
import {
  type AccountOutcome,
  type AppChannel,
  type Clock,
  type Identifiers,
  type Invocation,
  type Jwks,
  type OpenedProvisioningRequest,
  type ProvisioningRequestMessage,
  type PublicEcJwk,
  type Result,
  checkBinding,
  checkDeviceKeyBinding,
  createNonce,
  invocationAccounts,
  openProvisioningRequest,
  summarizeStatus,
  verifyInvocationSignature,
  waitForMessage,
} from '@pushprov/protocol';

export interface WalletDoubleOptions {
  channel: AppChannel;
  /** The token service's private keys (to open the request). */
  decryptionKeys: Jwks;
  /** The issuer's public keys (to verify the request and a signed invocation). */
  issuerKeys: Jwks;
  audience: string;
  clock?: Clock;
  walletProviderId?: string;
  walletAccountId?: string;
  deviceId?: string;
  /** A device key to send in the identifiers (the request must then name it as cnf.jkt). */
  devicePublicKey?: PublicEcJwk;
}

export class WalletDouble {
  readonly options: WalletDoubleOptions;
  invocation: Invocation | undefined;
  identifiers: Identifiers | undefined;
  request: ProvisioningRequestMessage | undefined;
  opened: OpenedProvisioningRequest | undefined;
  invocationVerified = false;

  constructor(options: WalletDoubleOptions) {
    this.options = options;
  }

  get channel(): AppChannel {
    return this.options.channel;
  }

  async receiveInvocation(): Promise<Invocation> {
    this.invocation = await waitForMessage(this.channel, (m): m is Invocation => m.type === 'invocation', { timeoutMs: 5_000 });
    if (this.invocation.signature !== undefined) {
      await verifyInvocationSignature(this.invocation, this.options.issuerKeys);
      this.invocationVerified = true;
    }
    return this.invocation;
  }

  makeIdentifiers(overrides: Partial<Identifiers> = {}): Identifiers {
    return {
      type: 'identifiers',
      version: 1,
      sessionId: this.invocation!.sessionId,
      walletProviderId: this.options.walletProviderId ?? 'wallet-co',
      walletAccountId: this.options.walletAccountId ?? 'user-42',
      deviceId: this.options.deviceId ?? 'device-7',
      nonce: createNonce(),
      ...(this.options.devicePublicKey && { devicePublicKey: this.options.devicePublicKey }),
      ...overrides,
    };
  }

  async sendIdentifiers(overrides: Partial<Identifiers> = {}): Promise<Identifiers> {
    const identifiers = this.makeIdentifiers(overrides);
    if (identifiers.sessionId === this.invocation!.sessionId && this.identifiers === undefined) this.identifiers = identifiers;
    await this.channel.send(identifiers);
    return identifiers;
  }

  async receiveRequest(): Promise<ProvisioningRequestMessage> {
    const sid = this.invocation!.sessionId;
    this.request = await waitForMessage(
      this.channel,
      (m): m is ProvisioningRequestMessage => m.type === 'provisioning-request' && m.sessionId === sid,
      { timeoutMs: 5_000 },
    );
    return this.request;
  }

  /** Opens the request as the token service would, and checks the binding (device key included) to what this wallet sent. */
  async openRequest(): Promise<OpenedProvisioningRequest> {
    this.opened = await this.open(this.request!.encryptedRequest!);
    return this.opened;
  }

  /** Several accounts: opens each `requests` entry as the token service would (same checks as openRequest), by accountId. */
  async openRequests(): Promise<Map<string, OpenedProvisioningRequest>> {
    const opened = new Map<string, OpenedProvisioningRequest>();
    for (const { accountId, encryptedRequest } of this.request!.requests ?? []) opened.set(accountId, await this.open(encryptedRequest));
    return opened;
  }

  private async open(encryptedRequest: string): Promise<OpenedProvisioningRequest> {
    const { decryptionKeys, issuerKeys, audience, clock } = this.options;
    const opened = await openProvisioningRequest(encryptedRequest, {
      decryptionKeys,
      issuerKeys: (iss, kid) => issuerKeys.keys.find((k) => k.kid === kid),
      audience,
      clock,
    });
    const ids = this.identifiers!;
    checkBinding(opened.claims, {
      sessionId: ids.sessionId,
      walletProviderId: ids.walletProviderId,
      walletAccountId: ids.walletAccountId,
      deviceId: ids.deviceId,
      nonce: ids.nonce,
    });
    await checkDeviceKeyBinding(opened.claims, ids.devicePublicKey);
    return opened;
  }

  /**
   * Several accounts: the result a wallet sends after submitting each
   * request (`provisioned`, token `tok_<accountId>`), each refusal
   * (`failed` with its code) and each unpicked account (`cancelled`,
   * `consent_denied`), for every account of the invocation, in its order.
   */
  async sendMultiResult(): Promise<Result> {
    const requested = new Set((this.request!.requests ?? []).map((r) => r.accountId));
    const refused = new Map((this.request!.refusals ?? []).map((r) => [r.accountId, r.errorCode]));
    const accounts: AccountOutcome[] = invocationAccounts(this.invocation!).map(({ accountId }) => {
      const id = accountId!;
      if (requested.has(id)) return { accountId: id, status: 'provisioned', tokenReferenceId: `tok_${id}` };
      if (refused.has(id)) return { accountId: id, status: 'failed', errorCode: refused.get(id)! };
      return { accountId: id, status: 'cancelled', errorCode: 'consent_denied' };
    });
    const result: Result = { type: 'result', version: 1, sessionId: this.invocation!.sessionId, status: summarizeStatus(accounts.map((a) => a.status)), accounts };
    await this.channel.send(result);
    return result;
  }

  /** Sends a result; a status that means a token was issued gets a token reference id unless `extra` names one. */
  async sendResult(status: Result['status'], extra: Partial<Result> = {}): Promise<Result> {
    const issued = status === 'provisioned' || status === 'pending_activation';
    const result: Result = { type: 'result', version: 1, sessionId: this.invocation!.sessionId, status, ...(issued && { tokenReferenceId: 'tok_ref_default' }), ...extra };
    await this.channel.send(result);
    return result;
  }

  /** The whole happy path: identify, receive, open and check, report provisioned. */
  async runHappyPath(): Promise<void> {
    await this.receiveInvocation();
    await this.sendIdentifiers();
    await this.receiveRequest();
    await this.openRequest();
    await this.sendResult('provisioned', { tokenReferenceId: 'tok_ref_1' });
  }
}
