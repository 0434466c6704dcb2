// The app side of a provisioning, as a React Native app would run it: the
// bank's app (issuer SDK app entry, through its backend) and the wallet
// (wallet SDK main entry, /http, /device-key) over an in-memory app channel,
// against a token service and an issuer backend on 127.0.0.1. It is bundled
// for a neutral platform and run inside a `node:vm` context that has only the
// globals docs/react-native.md lists (see react-native.test.ts): it uses no
// global of its own beyond what the packages need (`fetch` for its backend).
import { createBackendRequestSource, createIssuerClient } from '@pushprov/issuer-sdk';
import { createBackendActivationSource } from '@pushprov/issuer-sdk/activation';
import { createMemoryChannelPair, type AccountHint, type Jwks } from '@pushprov/protocol';
import { createMemoryTokenStore, createWallet } from '@pushprov/wallet-sdk';
import { createActivations } from '@pushprov/wallet-sdk/activation';
import { generatedDeviceKey } from '@pushprov/wallet-sdk/device-key';
import { createHttpTokenServiceClient } from '@pushprov/wallet-sdk/http';

/** What the host hands in: addresses, ids and public keys only. */
export interface AppFlowInput {
  backendUrl: string;
  activationUrl: string;
  tokenServiceUrl: string;
  /** The wallet provider's backend: `POST` answers `{ assertion }`, a fresh client assertion. */
  assertionUrl: string;
  bankSessionToken: string;
  issuerId: string;
  issuerJwks: Jwks;
  walletProviderId: string;
  accountRef: string;
  account: AccountHint;
}

/** Runs one provisioning; returns what both apps saw (nothing secret: ids, statuses, last 4 digits). */
export async function provision(input: AppFlowInput) {
  const headers = { authorization: `Bearer ${input.bankSessionToken}` };
  const backend = createBackendRequestSource({ url: input.backendUrl, headers });
  const issuer = createIssuerClient({
    issuerId: input.issuerId,
    requestSource: backend,
    invocationSigner: backend.signInvocation,
    tokenStatusSource: createBackendActivationSource({ url: input.activationUrl, headers }),
  });
  const tokenService = createHttpTokenServiceClient({
    baseUrl: input.tokenServiceUrl,
    auth: {
      getToken: async () => {
        const answer = await fetch(input.assertionUrl, { method: 'POST' });
        if (!answer.ok) throw new Error(`assertion endpoint answered ${answer.status}`);
        return (JSON.parse(await answer.text()) as { assertion: string }).assertion;
      },
    },
  });
  const tokenStore = createMemoryTokenStore();
  const wallet = createWallet({
    identity: () => ({ walletProviderId: input.walletProviderId, walletAccountId: 'rn-user-1', deviceId: 'rn-device-1' }),
    consent: () => true,
    tokenService,
    tokenStore,
    trustedIssuers: { [input.issuerId]: input.issuerJwks },
    deviceKey: generatedDeviceKey(),
  });
  // The yellow path's entry is loaded and set up too, so its code runs in this runtime as well.
  const activations = createActivations({ tokenService, tokenStore });
  const pair = createMemoryChannelPair();
  const walletOutcome = wallet.handleInvocation(pair.wallet, { closeChannelOnEnd: true });
  const session = issuer.createSession({ account: input.account, accountRef: input.accountRef, wallet: pair.issuer });
  const issuerOutcome = await session.run();
  const outcome = await walletOutcome;
  pair.issuer.close();
  const stored = await tokenStore.list();
  return {
    issuerStatus: issuerOutcome.status,
    issuerTokenReferenceId: issuerOutcome.state === 'completed' ? issuerOutcome.tokenReferenceId : undefined,
    walletStatus: outcome.status,
    walletToken: outcome.status === 'provisioned' ? outcome.token : undefined,
    walletError: 'error' in outcome ? `${outcome.error.code}: ${outcome.error.message}` : undefined,
    stored: stored.map((t) => ({ tokenReferenceId: t.accessData.tokenReferenceId, tokenLast4: t.accessData.tokenNumber.slice(-4), status: t.accessData.status })),
    activationsReady: typeof activations.resume === 'function',
  };
}
