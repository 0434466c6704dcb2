import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES, type ErrorCode, parseProblemDetails } from '@pushprov/protocol';
import { PROVISIONING_STEPS, createTokenService, createTokenServiceApp, silentLogger } from '../src/index.js';
import { startTokenServer } from '../src/server.js';
import { API_KEY, NOW, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';
import { createOpenApiDocument } from './openapi-document.js';

const FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

describe('openapi.json', () => {
  it('equals the document generated from the protocol schemas', () => {
    const generated = createOpenApiDocument();
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(FILE, `${JSON.stringify(generated, null, 2)}\n`);
    expect(JSON.parse(readFileSync(FILE, 'utf8'))).toEqual(generated);
  });

  it('documents exactly the routes the app serves', async () => {
    const fx = await createFixture();
    const app = createTokenServiceApp(createTokenService(fx.config, undefined, { configOptions: { env: {} } }), { logger: silentLogger });
    const doc = JSON.parse(readFileSync(FILE, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        const response = await app.fetch(new Request(`http://localhost${path.replace('{tokenReferenceId}', 'tok_x').replace('{eventId}', 'evt_0123456789abcdefghijkl')}`, { method: method.toUpperCase() }));
        // Without credentials the authenticated routes answer 401; the others 200. A missing route would be 404.
        expect([200, 401]).toContain(response.status);
      }
    }
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/.well-known/jwks.json',
      '/health',
      '/health/ready',
      '/openapi.json',
      '/v1/events',
      '/v1/events/{eventId}/redeliver',
      '/v1/issuer/cards/events',
      '/v1/issuer/cards/lifecycle',
      '/v1/issuer/tokens/search',
      '/v1/issuer/tokens/{tokenReferenceId}',
      '/v1/issuer/tokens/{tokenReferenceId}/activation',
      '/v1/issuer/tokens/{tokenReferenceId}/history',
      '/v1/issuer/tokens/{tokenReferenceId}/lifecycle',
      '/v1/provisioning-requests',
      '/v1/tokens/query',
      '/v1/tokens/{tokenReferenceId}',
      '/v1/tokens/{tokenReferenceId}/activation',
      '/v1/tokens/{tokenReferenceId}/history',
      '/v1/tokens/{tokenReferenceId}/lifecycle',
      '/v1/tokens/{tokenReferenceId}/verification',
    ]);
  });

  it('lists every protocol error code in the problem schema', () => {
    const doc = JSON.parse(readFileSync(FILE, 'utf8')) as { components: { schemas: { ProblemDetails: { properties: { code: { enum: string[] } } } } } };
    expect(doc.components.schemas.ProblemDetails.properties.code.enum).toEqual(ERROR_CODES);
  });

  it('documents every code the provisioning route answers with under its status, and Retry-After on its retryable 409, 429 and 503', () => {
    const doc = readDoc();
    const post = doc.paths['/v1/provisioning-requests']!.post!;
    const documented = documentedCodes(post);
    for (const step of PROVISIONING_STEPS) {
      for (const code of step.codes) expect(documented.get(code), `step ${step.steps.join('-')}: ${code}`).toBe(String(ERROR_CATALOG[code as ErrorCode].status));
    }
    expect(documented.get('rate_limited')).toBe('429');
    for (const [status, response] of Object.entries(post.responses)) {
      const retryable = [...documented].some(([code, s]) => s === status && ERROR_CATALOG[code as ErrorCode].retryable);
      const expected = retryable && ['409', '429', '503'].includes(status);
      expect(Object.keys(response.headers ?? {}).includes('Retry-After'), `POST ${status}`).toBe(expected);
    }
    // The status route is not rate limited: it documents no 429.
    expect(Object.keys(doc.paths['/v1/tokens/{tokenReferenceId}']!.get!.responses)).not.toContain('429');
  });

  it('holds to the code over HTTP: 429 rate_limited with Retry-After and X-Correlation-Id where documented, and never on the status route', async () => {
    const fx = await createFixture();
    const temp = createTempDir('openapi-');
    const config = structuredClone(fx.config);
    config.walletProviders[0]!.rateLimit = { perMinute: 1 };
    const server = await startTokenServer({ config, dbPath: join(temp.dir, 'tokens.db'), clock: fx.clock, purgeIntervalMs: 0, logger: silentLogger });
    try {
      fx.clock.set(NOW + 20_000);
      const first = await postSubmission(server.url, (await buildSubmission(fx, { identifiers: createIdentifiers() })).submission);
      expect(first.status).toBe(201);
      const limited = await fetch(`${server.url}/v1/provisioning-requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'openapi-429', 'x-correlation-id': 'support-case-7' },
        body: JSON.stringify((await buildSubmission(fx, { identifiers: createIdentifiers() })).submission),
      });
      expect(limited.status).toBe(429);
      const problem = parseProblemDetails(await limited.text());
      expect(problem).toMatchObject({ code: 'rate_limited', retryable: true, correlationId: 'support-case-7' });
      const doc = readDoc();
      const documented = doc.paths['/v1/provisioning-requests']!.post!.responses['429']!;
      expect(documented.description).toContain('`rate_limited`');
      // Every header the document promises is there, Retry-After as its schema says (an integer of seconds, here the 40 left of the minute).
      for (const name of Object.keys(documented.headers ?? {})) expect(limited.headers.get(name), name).not.toBeNull();
      expect(limited.headers.get('retry-after')).toBe('40');
      expect(limited.headers.get('x-correlation-id')).toBe('support-case-7');
      // The status route, far past the wallet provider's limit: never 429.
      for (let i = 0; i < 5; i++) {
        const status = await fetch(`${server.url}/v1/tokens/tok_unknown`, { headers: { authorization: `Bearer ${API_KEY}` } });
        expect(status.status).toBe(404);
        await status.arrayBuffer();
      }
    } finally {
      await server.close();
      temp.remove();
    }
  });
});

interface OperationDoc {
  responses: Record<string, { description: string; headers?: Record<string, unknown> }>;
}

function readDoc(): { paths: Record<string, Record<string, OperationDoc>> } {
  return JSON.parse(readFileSync(FILE, 'utf8')) as { paths: Record<string, Record<string, OperationDoc>> };
}

/** The codes an operation's problem answers list ("Codes: `a`, `b`."), each with the status it is listed under. */
function documentedCodes(operation: OperationDoc): Map<string, string> {
  const out = new Map<string, string>();
  for (const [status, response] of Object.entries(operation.responses)) {
    const listed = /Codes: (.*)\.$/.exec(response.description)?.[1];
    if (listed) for (const m of listed.matchAll(/`([a-z_]+)`/g)) out.set(m[1]!, status);
  }
  return out;
}
