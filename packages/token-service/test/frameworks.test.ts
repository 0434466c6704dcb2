// The token service's Fetch handler (`createTokenServiceApp(...).fetch`)
// mounted as the token service guide shows it, in Express, Fastify, Hono and
// Node's http (through @hono/node-server), each serving real HTTP on
// 127.0.0.1 beside a JSON route of the app's own: a wallet's submission is
// provisioned (201), replayed by its idempotency key (the same answer), its
// token read back; the service's own answers (404, 405 with Allow, 413, 415)
// and headers reach the client unchanged.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, serve } from '@hono/node-server';
import { parseProblemDetails } from '@pushprov/protocol';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TokenServiceApp, createMemoryStore, createTokenService, createTokenServiceApp, silentLogger } from '../src/index.js';
import { API_KEY, type Fixture, PAN, buildSubmission, createFixture, postSubmission, publishedSigningKeys } from './helpers.js';

interface Mounted {
  url: string;
  close(): Promise<void>;
}

const echo = (body: unknown) => ({ echoed: body });

/** Each framework, mounted as docs/token-service-guide.md ("In Express, Fastify, Hono or Node's http") shows it. */
const FRAMEWORKS: Record<string, (app: TokenServiceApp) => Promise<Mounted>> = {
  express: async (app) => {
    const server = express();
    server.use('/api/echo', express.json());
    server.post('/api/echo', (req, res) => void res.json(echo(req.body)));
    // Last, and without a body parser in front: it answers every other path (404 problem details).
    server.use(getRequestListener(app.fetch));
    const listening = server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    return closable(listening);
  },
  fastify: async (app) => {
    const fastify = Fastify();
    fastify.post('/api/echo', async (request) => echo(request.body));
    await fastify.register(async (scope) => {
      // Without Fastify's body parsers in this scope: the token service reads (and bounds) the body itself.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      const listener = getRequestListener(app.fetch);
      scope.all('/*', async (request, reply) => {
        reply.hijack();
        await listener(request.raw, reply.raw);
      });
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const { port } = fastify.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => fastify.close() };
  },
  hono: async (app) => {
    const hono = new Hono();
    hono.post('/api/echo', async (c) => c.json(echo(await c.req.json())));
    hono.all('*', (c) => app.fetch(c.req.raw));
    const server = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return closable(server);
  },
  'node:http': async (app) => {
    const listener = getRequestListener(app.fetch);
    const server = createServer((req, res) => {
      if (req.url === '/api/echo') {
        let text = '';
        req.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echo(JSON.parse(text)))));
      } else void listener(req, res);
    });
    server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return closable(server);
  },
};

function closable(server: { address(): unknown; close(cb: (error?: Error) => void): unknown; closeAllConnections?: () => void }): Mounted {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});

describe.each(Object.keys(FRAMEWORKS))('the token service in %s', (framework) => {
  let mounted: Mounted;
  const answered: string[] = [];
  beforeAll(async () => {
    const service = createTokenService(fx.config, createMemoryStore(), { clock: fx.clock, configOptions: { env: {} } });
    mounted = await FRAMEWORKS[framework]!(createTokenServiceApp(service, { logger: silentLogger }));
  });
  afterAll(async () => {
    await mounted.close();
    expect(answered.join('\n')).not.toContain(PAN);
  });

  const read = async (response: Response) => {
    const text = await response.text();
    answered.push(text, JSON.stringify([...response.headers]));
    return text;
  };

  it('provisions a submission, answers a retry with the same answer, and reads the token back', async () => {
    const { submission } = await buildSubmission(fx);
    const first = await postSubmission(mounted.url, submission, { idempotencyKey: 'framework-key-1' });
    const text = await read(first);
    expect(first.status, text).toBe(201);
    expect(first.headers.get('x-request-id')).toMatch(/^req_/);
    const body = JSON.parse(text) as { tokenReferenceId: string };
    const again = await postSubmission(mounted.url, submission, { idempotencyKey: 'framework-key-1' });
    expect(await read(again)).toBe(text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const status = await fetch(`${mounted.url}/v1/tokens/${body.tokenReferenceId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(status.status, await read(status.clone())).toBe(200);
    expect(((await status.json()) as { tokenReferenceId: string }).tokenReferenceId).toBe(body.tokenReferenceId);
  });

  it('serves its public keys, health and OpenAPI document', async () => {
    const jwks = await fetch(`${mounted.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: { kid: string; d?: string }[] }).keys.map((k) => [k.kid, k.d])).toEqual([
      [fx.keySet.encryptionKeys.keys[0]!.kid, undefined],
      ...publishedSigningKeys(fx.keySet).map((k) => [k.kid, undefined]),
    ]);
    expect((await fetch(`${mounted.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${mounted.url}/openapi.json`)).status).toBe(200);
  });

  it('answers with its own problems, unchanged by the framework: 404, 405 with Allow, 413, 415', async () => {
    const missing = await fetch(`${mounted.url}/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(parseProblemDetails(JSON.parse(await read(missing))).code).toBe('not_found');
    const method = await fetch(`${mounted.url}/v1/provisioning-requests`, { method: 'PUT', headers: { authorization: `Bearer ${API_KEY}` } });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('POST');
    const tooLarge = await postSubmission(mounted.url, JSON.stringify({ padding: 'x'.repeat(2_000_000) }));
    expect(tooLarge.status).toBe(413);
    expect(parseProblemDetails(JSON.parse(await read(tooLarge))).code).toBe('payload_too_large');
    const wrongType = await postSubmission(mounted.url, '{}', { contentType: 'text/plain' });
    expect(wrongType.status).toBe(415);
  });

  it("leaves the app's own JSON routes to the framework", async () => {
    const response = await fetch(`${mounted.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hello: 'wallet' }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ echoed: { hello: 'wallet' } });
  });
});
