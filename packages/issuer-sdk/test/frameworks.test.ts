// The issuer backend handler mounted as the issuer guide shows it, in
// Express, Fastify, Hono and Node's http (through @hono/node-server), each
// serving real HTTP on 127.0.0.1 next to a JSON route of the app's own:
// a request is built for the signed-in user, an invocation is signed, and
// the handler's own answers (401, 405, 413, 415) reach the client unchanged.
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { getRequestListener, serve } from '@hono/node-server';
import { type Invocation, manualClock, parseProblemDetails, verifyInvocationSignature } from '@pushprov/protocol';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FetchHandler, createIssuerBackendHandler, createProvisioningRequestBuilder } from '../src/server.js';
import { AUDIENCE, CARD, ISSUER_ID, NOW, identifiers, keys } from './support/fixtures.js';
import { type JwksServer, startJwksServer } from './support/jwks-server.js';
import { expectNoPan } from './support/pan-guard.js';

type User = { id: string };
const PATH = '/api/push-provisioning';
const AUTH = { authorization: 'Bearer alice-token' };
const JSON_TYPE = { 'content-type': 'application/json' };

interface Mounted {
  url: string;
  close(): Promise<void>;
}

/** The app's own route beside ours: it parses JSON bodies with the framework's parser. */
const echo = (body: unknown) => ({ echoed: body });

/** Each framework, mounted as docs/issuer-guide.md ("Express and Fastify", "The backend") shows it. */
const FRAMEWORKS: Record<string, (handler: FetchHandler) => Promise<Mounted>> = {
  express: async (handler) => {
    const app = express();
    // Before any body parser: express.json() would read the body first.
    app.all(PATH, getRequestListener(handler));
    app.use(express.json());
    app.post('/api/echo', (req, res) => void res.json(echo(req.body)));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return closable(server);
  },
  fastify: async (handler) => {
    const fastify = Fastify();
    await fastify.register(async (scope) => {
      // Without Fastify's body parsers in this scope, the handler reads the body itself.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      const listener = getRequestListener(handler);
      scope.all(PATH, async (request, reply) => {
        reply.hijack();
        await listener(request.raw, reply.raw);
      });
    });
    fastify.post('/api/echo', async (request) => echo(request.body));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const { port } = fastify.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => fastify.close() };
  },
  hono: async (handler) => {
    const app = new Hono();
    app.all(PATH, (c) => handler(c.req.raw));
    app.post('/api/echo', async (c) => c.json(echo(await c.req.json())));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return closable(server);
  },
  'node:http': async (handler) => {
    const listener = getRequestListener(handler);
    const server = createServer((req, res) => {
      if (req.url === '/api/echo') {
        let text = '';
        req.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        req.on('end', () => res.writeHead(200, JSON_TYPE).end(JSON.stringify(echo(JSON.parse(text)))));
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

let jwks: JwksServer;
let handler: FetchHandler;
let issuerPublic: Awaited<ReturnType<typeof keys>>['issuerPublic'];
const answered: string[] = [];

beforeAll(async () => {
  const k = await keys();
  issuerPublic = k.issuerPublic;
  jwks = await startJwksServer(k.servicePublic);
  const builder = createProvisioningRequestBuilder<User>({
    issuerId: ISSUER_ID,
    signingKey: k.issuer.privateJwk,
    tokenService: { audience: AUDIENCE, jwksUrl: jwks.url },
    walletProviders: ['wallet-co'],
    lookupCard: (accountRef, user) => (user.id === 'alice' && accountRef === 'acc_1' ? CARD : null),
    clock: manualClock(NOW),
  });
  handler = createIssuerBackendHandler<User>({
    builder,
    authenticate: (request) => (request.headers.get('authorization') === AUTH.authorization ? { id: 'alice' } : null),
  });
});

afterAll(async () => {
  await jwks.close();
  // Nothing any framework answered carried the card number.
  expectNoPan(answered);
});

describe.each(Object.keys(FRAMEWORKS))('the issuer backend handler in %s', (framework) => {
  let mounted: Mounted;
  beforeAll(async () => {
    mounted = await FRAMEWORKS[framework]!(handler);
  });
  afterAll(() => mounted.close());

  const post = async (body: string, headers: Record<string, string> = { ...AUTH, ...JSON_TYPE }, path = PATH) => {
    const response = await fetch(`${mounted.url}${path}`, { method: 'POST', headers, body });
    const text = await response.text();
    answered.push(text, JSON.stringify([...response.headers]));
    return { response, text };
  };

  it('builds the request for the signed-in user over real HTTP', async () => {
    const ids = identifiers();
    const { response, text } = await post(JSON.stringify({ type: 'build-request', version: 1, accountRef: 'acc_1', identifiers: ids }));
    expect(response.status, text).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = JSON.parse(text) as { type: string; sessionId: string; encryptedRequest: string };
    expect(body.type).toBe('provisioning-request');
    expect(body.sessionId).toBe(ids.sessionId);
    expect(body.encryptedRequest.split('.')).toHaveLength(5);
  });

  it('signs an invocation', async () => {
    const invocation = { type: 'invocation', version: 1, sessionId: identifiers().sessionId, issuerId: ISSUER_ID, account: { last4: '1111', network: 'visa' }, iat: NOW / 1000, exp: NOW / 1000 + 300 };
    const { response, text } = await post(JSON.stringify({ type: 'sign-invocation', version: 1, accountRef: 'acc_1', invocation }));
    expect(response.status, text).toBe(200);
    const signed = JSON.parse(text) as Invocation;
    expect(signed.sessionId).toBe(invocation.sessionId);
    await verifyInvocationSignature(signed, issuerPublic);
  });

  it('answers with its own problems, unchanged by the framework: 401, 415, 413, 405', async () => {
    const body = JSON.stringify({ type: 'build-request', version: 1, accountRef: 'acc_1', identifiers: identifiers() });
    const unauthenticated = await post(body, JSON_TYPE);
    expect(unauthenticated.response.status).toBe(401);
    expect(unauthenticated.response.headers.get('www-authenticate')).toBe('Bearer');
    expect(parseProblemDetails(JSON.parse(unauthenticated.text)).code).toBe('unauthenticated');
    const wrongType = await post(body, { ...AUTH, 'content-type': 'text/plain' });
    expect(wrongType.response.status).toBe(415);
    const tooLarge = await post(JSON.stringify({ padding: 'x'.repeat(20_000) }));
    expect(tooLarge.response.status).toBe(413);
    expect(parseProblemDetails(JSON.parse(tooLarge.text)).code).toBe('payload_too_large');
    const get = await fetch(`${mounted.url}${PATH}`, { headers: AUTH });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('leaves the app\'s own JSON routes to the framework', async () => {
    const { response, text } = await post(JSON.stringify({ hello: 'bank' }), JSON_TYPE, '/api/echo');
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ echoed: { hello: 'bank' } });
  });
});
