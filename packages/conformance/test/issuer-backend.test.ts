// `pushprov-conformance issuer-backend` against the example issuer backend:
// the issuer SDK's createIssuerBackendHandler in a small node:http server,
// set up as examples/demo/src/start-sandbox.ts sets it up, trusting the
// runner's token service JWKS. Then against deliberately broken backends.
import { readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ProvisioningRequestBuilder, createIssuerBackendHandler, createProvisioningRequestBuilder } from '@pushprov/issuer-sdk/server';
import { type Card, createNonce, generateEncryptionKey, generateSigningKey, luhnCheckDigit, toPublicJwk } from '@pushprov/protocol';
import { type IssuerBackendProfileInput, runIssuerBackendConformance, serveJwks } from '../src/index.js';
import type { Report } from '../src/report.js';
import { killChildren, runCli, tempDir } from './helpers.js';

const temp = tempDir('conformance-ib-');
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.closeAllConnections(), server.close();
  killChildren();
  temp.remove();
});

const ISSUER = 'bank-e';
const SERVICE = 'ts-example';
const WALLET = 'wallet-e';
const USER = { id: 'user-1', token: 'conformance-user-session-token-0123456789' };
const ACCOUNT = 'acct-1';
const PAN = '451234567890123' + luhnCheckDigit('451234567890123');
const CARD: Card = { pan: PAN, expiry: { month: 11, year: 2099 }, cardholderName: 'Grace Hopper' };
const issuerKey = await generateSigningKey({ alg: 'ES256', kid: 'bank-e-sig-1' });

/** A free port on 127.0.0.1 (listen on 0, close). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The issuer backend: the SDK's handler on node:http, at /api/push-provisioning. `wrap` may break its builder. */
async function startBackend(jwksUrl: string, options: { wrap?: (builder: ProvisioningRequestBuilder<{ id: string }>) => ProvisioningRequestBuilder<{ id: string }>; allowInvocationSigning?: boolean } = {}): Promise<string> {
  const real = createProvisioningRequestBuilder<{ id: string }>({
    issuerId: ISSUER,
    signingKey: issuerKey.privateJwk,
    tokenService: { audience: SERVICE, jwksUrl },
    walletProviders: [WALLET],
    lookupCard: (accountRef, user) => (user.id === USER.id && accountRef === ACCOUNT ? CARD : null),
  });
  const handler = createIssuerBackendHandler({
    builder: options.wrap ? options.wrap(real) : real,
    authenticate: (request) => (request.headers.get('authorization') === `Bearer ${USER.token}` ? { id: USER.id } : null),
    ...(options.allowInvocationSigning === undefined ? {} : { allowInvocationSigning: options.allowInvocationSigning }),
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.url !== '/api/push-provisioning') {
        res.writeHead(404).end();
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
      const response = await handler(new Request(`http://127.0.0.1${req.url}`, { ...(req.method === undefined ? {} : { method: req.method }), headers, ...(body ? { body } : {}) }));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/push-provisioning`;
}

const profileWith = (tokenServiceKeys: IssuerBackendProfileInput['tokenServiceKeys'], extra: Partial<IssuerBackendProfileInput> = {}): IssuerBackendProfileInput => ({
  kind: 'issuer-backend',
  issuer: { id: ISSUER, keys: { keys: [issuerKey.publicJwk as never] } },
  serviceId: SERVICE,
  walletProviderId: WALLET,
  user: { bearerToken: USER.token, accountRef: ACCOUNT, last4: PAN.slice(-4), network: 'visa' },
  tokenServiceKeys,
  ...extra,
});
const statuses = (report: Report) => Object.fromEntries(report.results.map((r) => [r.id, r.status]));

describe('the example issuer backend passes', () => {
  it('every case over the CLI, trusting the JWKS the runner serves on the port it prints', async () => {
    const port = await freePort();
    const endpoint = await startBackend(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    const profilePath = join(temp.dir, 'ib-profile.json');
    writeFileSync(profilePath, JSON.stringify(profileWith({ serve: { port } }, { invocationSigning: true })));
    const json = join(temp.dir, 'ib.json');
    const run = await runCli(['issuer-backend', '--endpoint', endpoint, '--profile', profilePath, '--json', json, '--junit', join(temp.dir, 'ib.xml')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`Serving the runner's token service JWKS at http://127.0.0.1:${port}/.well-known/jwks.json`);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.results.filter((r) => r.status !== 'passed')).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.results.map((r) => r.id)).toEqual(
      expect.arrayContaining(['ib-sign-invocation', 'ib-request-opens', 'ib-claim-sid', 'ib-claim-wallet-provider', 'ib-claim-wallet-account', 'ib-claim-device', 'ib-claim-nonce', 'ib-claim-cnf', 'ib-claim-aud', 'ib-claim-lifetime', 'ib-claim-jti', 'ib-wallet-provider-not-allowed']),
    );
  }, 60_000);

  it('with a JWKS URL the backend already trusts and its private key (the runner does not contact that URL)', async () => {
    const key = await generateEncryptionKey({ kid: 'ts-example-1' });
    const jwks = await serveJwks([toPublicJwk(key.privateJwk)]);
    try {
      const endpoint = await startBackend(jwks.url);
      const seen: string[] = [];
      const report = await runIssuerBackendConformance({
        endpoint,
        profile: profileWith({ jwksUrl: jwks.url, privateKeys: { keys: [key.privateJwk as never] } }),
        fetch: (input, init) => {
          seen.push(String(input));
          return fetch(input, init);
        },
      });
      expect(report.results.filter((r) => r.status !== 'passed')).toEqual([]);
      expect([...new Set(seen.map((u) => new URL(u).origin))]).toEqual([new URL(endpoint).origin]);
    } finally {
      await jwks.close();
    }
  }, 60_000);
});

describe('a broken issuer backend is caught', () => {
  it('a backend that binds another nonce and drops the device key', async () => {
    const port = await freePort();
    const endpoint = await startBackend(`http://127.0.0.1:${port}/.well-known/jwks.json`, {
      wrap: (real) => ({ ...real, buildRequest: (input) => real.buildRequest({ ...input, identifiers: { ...input.identifiers, nonce: createNonce(), devicePublicKey: undefined } }) }),
    });
    const profilePath = join(temp.dir, 'ib-broken.json');
    writeFileSync(profilePath, JSON.stringify(profileWith({ serve: { port } })));
    const json = join(temp.dir, 'ib-broken-out.json');
    const run = await runCli(['issuer-backend', '--endpoint', endpoint, '--profile', profilePath, '--json', json]);
    expect(run.code).toBe(1);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    const failed = report.results.filter((r) => r.status === 'failed').map((r) => r.id);
    expect(failed.sort()).toEqual(['ib-claim-cnf', 'ib-claim-nonce']);
    expect(report.results.find((r) => r.id === 'ib-claim-nonce')).toMatchObject({ code: 'nonce_mismatch', troubleshooting: 'docs/troubleshooting.md#nonce_mismatch' });
    expect(statuses(report)['ib-claim-sid']).toBe('passed');
  }, 60_000);

  it('a backend that does not sign invocations: not applicable unless the profile says it must', async () => {
    const port = await freePort();
    const endpoint = await startBackend(`http://127.0.0.1:${port}/.well-known/jwks.json`, { allowInvocationSigning: false });
    const optional = await runIssuerBackendConformance({ endpoint, profile: profileWith({ serve: { port } }), filter: (id) => id === 'ib-sign-invocation' || id === 'ib-claim-sid' });
    expect(statuses(optional)).toEqual({ 'ib-sign-invocation': 'not_applicable', 'ib-claim-sid': 'passed' });
    expect(optional.ok).toBe(true);
    const required = await runIssuerBackendConformance({ endpoint, profile: profileWith({ serve: { port } }, { invocationSigning: true }), filter: (id) => id === 'ib-sign-invocation' });
    expect(statuses(required)).toEqual({ 'ib-sign-invocation': 'failed' });
    expect(required.ok).toBe(false);
  }, 60_000);

  it('a backend that encrypts to another key than the runner’s', async () => {
    const stranger = await generateEncryptionKey({ kid: 'not-the-runner' });
    const jwks = await serveJwks([toPublicJwk(stranger.privateJwk)]);
    try {
      const port = await freePort();
      const endpoint = await startBackend(jwks.url);
      const report = await runIssuerBackendConformance({ endpoint, profile: profileWith({ serve: { port } }), filter: (id) => id === 'ib-request-opens' || id === 'ib-claim-sid' });
      expect(statuses(report)).toEqual({ 'ib-request-opens': 'failed', 'ib-claim-sid': 'failed' });
      expect(report.results[0]!.code).toBe('unknown_key');
    } finally {
      await jwks.close();
    }
  }, 60_000);
});
