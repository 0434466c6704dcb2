// Every provisioning-request conformance vector, sent over real HTTP to a
// real token server (SQLite in a temporary folder, 127.0.0.1, a free port),
// configured with that vector's keys, issuers, clock and decision: the
// server must answer the vector's exact code with its catalog status (or,
// for a positive vector, issue a token with the expected status).
//
// The vectors encode the validation order of docs/protocol.md, section 6,
// for the request inside the submission; the submission around it is
// well-formed, so any other answer means a step of the HTTP pipeline
// answered out of turn (or the vector is wrong).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Card, ERROR_CATALOG, type ErrorCode, createSessionId, parseProvisioningResponse } from '@pushprov/protocol';
import type { ProvisioningRequestInput, VectorCase } from '../../protocol/scripts/lib/vector-types.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { silentLogger } from '../src/index.js';
import { createTempDir } from './helpers.js';

type RequestCase = Extract<VectorCase, { kind: 'provisioning-request' }>;

const file = JSON.parse(readFileSync(new URL('../../protocol/vectors/vectors.json', import.meta.url), 'utf8')) as { cases: VectorCase[] };
const cases = file.cases.filter((c): c is RequestCase => c.kind === 'provisioning-request');

const temp = createTempDir('vectors-over-http-');
afterAll(() => temp.remove());

/** The API key of a wallet provider in these servers (never a real credential). */
const apiKeyOf = (walletProviderId: string) => `vector-api-key-of-${walletProviderId}-0123456789abcdef`;
/** A token range that overlaps no vector's BIN ranges. */
const TOKEN_BIN = '489537';

/** The wallet providers a vector's issuer accepts: its `walletProviders` when the vector says, else every provider. */
const acceptedBy = (issuer: object, providers: string[]): string[] => (issuer as { walletProviders?: string[] }).walletProviders ?? providers;

/** Starts a token server configured exactly as the vector's token service is. */
async function startServerFor(id: string, input: ProvisioningRequestInput): Promise<RunningTokenServer> {
  const issuers = Object.entries(input.trustedIssuers);
  // Every provider the vector names is registered; the caller is the context's.
  const providers = [...new Set(['wallet-co', input.context.walletProviderId, ...issuers.flatMap(([, issuer]) => acceptedBy(issuer, []))])];
  const own = <T>(record: Record<string, T>, key: string): T | undefined => (Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined);
  return startTokenServer({
    config: {
      serviceId: input.audience,
      keys: {
        encryptionKeys: { keys: input.decryptionKeys.keys as never },
        vault: { keks: [{ id: 'kek-1', key: Buffer.alloc(32, 7).toString('base64url') }], fingerprintKey: Buffer.alloc(32, 9).toString('base64url') },
      },
      issuers: issuers.map(([issuerId, issuer]) => ({
        id: issuerId,
        jwks: { keys: issuer.keys },
        binRanges: issuer.binRanges,
        walletProviders: acceptedBy(issuer, providers),
      })),
      walletProviders: providers.map((p) => ({ id: p, apiKeys: [apiKeyOf(p)] })),
      tokenRange: { bin: TOKEN_BIN, length: 16 },
      lifetimes: { clockSkewSeconds: input.clockSkewSeconds, maxRequestSeconds: input.maxLifetimeSeconds },
    },
    dbPath: join(temp.dir, `${id}.db`),
    clock: { now: () => input.now * 1000 },
    purgeIntervalMs: 0,
    logger: silentLogger,
    decide: async () => input.issuerDecision,
    resolveAccount: async ({ accountRef }) => own(input.accounts, accountRef) as Card | undefined,
  });
}

/** The submission a wallet sends for this vector: the vector's JWE inside the vector's context (and its device key, if any). */
function submissionOf(input: ProvisioningRequestInput) {
  const { devicePublicKey } = input.context as { devicePublicKey?: unknown };
  return {
    type: 'submission',
    version: 1,
    sessionId: input.context.sessionId,
    walletAccountId: input.context.walletAccountId,
    deviceId: input.context.deviceId,
    nonce: input.context.nonce,
    encryptedRequest: input.jwe,
    ...(devicePublicKey === undefined ? {} : { devicePublicKey }),
  };
}

function post(server: RunningTokenServer, input: ProvisioningRequestInput): Promise<Response> {
  return fetch(`${server.url}/v1/provisioning-requests`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${apiKeyOf(input.context.walletProviderId)}`,
      'idempotency-key': `key-${createSessionId()}`,
    },
    body: JSON.stringify(submissionOf(input)),
  });
}

describe('every provisioning-request vector over HTTP', () => {
  it('has them all (positive and negative)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(cases.filter((c) => c.expected.outcome === 'ok').length).toBeGreaterThanOrEqual(5);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (id, vector) => {
    const { input, expected } = vector;
    const server = await startServerFor(id, input);
    try {
      if (input.seenJtis.length > 0) {
        // The vector's service has seen this jti: so does ours, from an earlier accepted copy of the same request.
        expect(input.seenJtis).toHaveLength(1);
        const first = await post(server, input);
        expect(first.status, 'the first copy of a replayed request is accepted').toBe(201);
      }
      const response = await post(server, input);
      const body = (await response.json()) as Record<string, unknown>;
      if (expected.outcome === 'error') {
        const code = expected.code as ErrorCode;
        expect({ code: body.code, status: response.status }).toEqual({ code, status: ERROR_CATALOG[code].status });
      } else {
        expect({ code: body.code, status: response.status }).toEqual({ code: undefined, status: 201 });
        const parsed = parseProvisioningResponse(JSON.stringify(body));
        expect(parsed.status).toBe(expected.tokenStatus);
      }
    } finally {
      await server.close();
    }
  });
});
