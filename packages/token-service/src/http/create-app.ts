import type { IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import { HttpError, type ProvisioningError, createId, isProvisioningError, redactPans, toProvisioningError } from '@pushprov/protocol';
import openApiDocument from '../../openapi.json' with { type: 'json' };
import type { TokenService } from '../service/create-token-service.js';
import { type Logger, createJsonLogger } from '../log/logger.js';
import { CORRELATION_ID_HEADER, acceptCorrelationId, routeLabel, startRequestSpan } from '../observability/http.js';
import type { TokenServiceMetrics } from '../observability/metrics.js';
import { toProblemDetails, toProblemResponse } from './problem-response.js';
import { readBodyWithLimit, readIncomingBodyWithLimit } from './read-body.js';
import { RecentRequests } from '../inspector/recent-requests.js';
import { createRequestRecorder, mountInspector } from '../inspector/sandbox-routes.js';
import { authenticateParty, readEventFeed, redeliverEvent } from '../notifications/event-api.js';

/** Options of {@link createTokenServiceApp}. */
export interface TokenServiceAppOptions {
  /** Where the one-line-per-request logs go. Default: JSON lines on standard output. */
  logger?: Logger;
  /** Counts every request (`http_requests_total`, `http_request_duration_seconds`); see `createTokenServiceMetrics`. Default: none. */
  metrics?: TokenServiceMetrics | undefined;
  /** Serves `metrics` at this path of the app too (`GET`), e.g. `/metrics`. Default: not served here. */
  metricsPath?: string | undefined;
  /**
   * Sandbox mode only (`sandbox: true`): where the request inspector keeps
   * the recent provisioning requests (`startTokenServer` keeps one across
   * reloads). Default: a new one. Ignored outside sandbox mode.
   */
  recentRequests?: RecentRequests | undefined;
}

/** `method_not_allowed`, carrying the `Allow` header's value. */
class MethodNotAllowed extends HttpError {
  constructor(readonly allow: string) {
    super('method_not_allowed', 'This method is not served on this path');
  }
}

type Env = {
  Variables: {
    requestId: string;
    correlationId: string;
    /** The correlation id when the caller sent it (valid), else undefined. */
    callerCorrelationId: string | undefined;
    errorCode: string | undefined;
    walletProviderId: string | undefined;
    issuerId: string | undefined;
  };
  /** Set by @hono/node-server under startTokenServer; absent when the app is called through `app.fetch`. */
  Bindings: { incoming?: IncomingMessage | undefined };
};

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * The token service's HTTP API, as {@link createTokenServiceApp} returns it:
 * an object with a Fetch handler (`export default app` serves it on
 * platforms that take one, such as Bun, Deno and workers).
 *
 * @example
 * ```ts
 * const app: TokenServiceApp = createTokenServiceApp(service);
 * const response = await app.fetch(new Request('http://localhost/.well-known/jwks.json'));
 * ```
 */
export interface TokenServiceApp {
  /** Answers one request. Never rejects: every failure is a problem details response. Safe to pass on unbound (`getRequestListener(app.fetch)`). */
  readonly fetch: (request: Request) => Promise<Response>;
}

/**
 * The token service's HTTP API as a Fetch handler: `app.fetch(request)`
 * answers a `Request` with a `Response`, so it runs on any server or
 * platform that speaks the Fetch API (Node through `@hono/node-server`'s
 * `getRequestListener`, Express, Fastify, Bun, Deno, workers; see the token
 * service guide), and `startTokenServer` runs it on Node:
 *
 * - `POST /v1/provisioning-requests`: authenticate the wallet provider
 *   (`401`) and count it against its rate limit (`429`), `Content-Type: application/json` (`415`), `Idempotency-Key`
 *   (`400`), body size before parsing (`413`), then the pipeline of
 *   {@link createTokenService}; `201` with a `ProvisioningResponse` (`200` when
 *   the card was already provisioned to this wallet account and device and
 *   its token has not expired),
 *   `Idempotent-Replayed: true` on a replayed answer.
 * - `GET /v1/tokens/{tokenReferenceId}`: the token's status, for its wallet provider only (else `404`).
 * - `POST /v1/tokens/query`: the wallet provider's live tokens of one wallet
 *   account for some of one issuer's accounts (spec section 7.14; rate
 *   limited as provisioning requests are).
 * - `POST /v1/tokens/{tokenReferenceId}/verification` and `…/activation`:
 *   step-up verification of a pending token by one-time code (the wallet
 *   provider that owns it; rate limited as provisioning requests are).
 * - `POST /v1/issuer/tokens/{tokenReferenceId}/activation` and
 *   `GET /v1/issuer/tokens/{tokenReferenceId}`: the issuer API, with an
 *   issuer assertion, for tokens of the issuer's own cards.
 * - `POST /v1/tokens/{tokenReferenceId}/lifecycle`, `GET …/history`: the
 *   wallet provider suspends, resumes or deletes its token, and reads its
 *   history (spec section 7.10).
 * - `POST /v1/issuer/tokens/search`, `POST /v1/issuer/tokens/{id}/lifecycle`,
 *   `POST /v1/issuer/cards/lifecycle`, `POST /v1/issuer/cards/events`,
 *   `GET /v1/issuer/tokens/{id}/history`: the issuer's lifecycle API (7.11).
 * - `GET /sandbox/inbox?tokenReferenceId=…`: in sandbox mode only, the
 *   one-time codes the sandbox sender kept (else `404`).
 * - `GET /.well-known/jwks.json`: the public encryption keys.
 * - `GET /health` (the process lives), `GET /health/ready` (the store
 *   answers: `200`, else `503 store_unavailable`), `GET /openapi.json`.
 *
 * Every response carries `X-Request-Id` and `X-Correlation-Id` (the
 * caller's, when valid: 1-128 of `[A-Za-z0-9._-]`, else a new one); every
 * error is RFC 9457 `application/problem+json` with the protocol's code, the
 * request id and the caller's correlation id. One log line per request: method,
 * path, route, status, code, duration, request and correlation ids. Each
 * request is an OpenTelemetry server span continuing the caller's
 * `traceparent`; with `metrics`, it is counted by route pattern.
 *
 * @example
 * ```ts
 * const app = createTokenServiceApp(createTokenService(config, store));
 * const response = await app.fetch(new Request('http://localhost/health'));
 * createServer(getRequestListener(app.fetch)).listen(8080, '127.0.0.1'); // node:http and @hono/node-server
 * ```
 */
export function createTokenServiceApp(service: TokenService, options: TokenServiceAppOptions = {}): TokenServiceApp {
  const app = createTokenServiceHonoApp(service, options);
  return Object.freeze({ fetch: async (request: Request): Promise<Response> => app.fetch(request) });
}

/**
 * The app of {@link createTokenServiceApp} as Hono builds it, for
 * `startTokenServer`, which hands it the Node request (`c.env.incoming`) so
 * that bodies are read from the socket with their limit. Internal: the
 * public type is {@link TokenServiceApp}, Hono stays inside.
 *
 * @internal
 */
export function createTokenServiceHonoApp(service: TokenService, options: TokenServiceAppOptions = {}): Hono<Env> {
  const logger = options.logger ?? createJsonLogger({ clock: service.clock });
  const maxBodyBytes = service.config.limits.maxBodyBytes;
  const app = new Hono<Env>();
  // Sandbox mode only: the request inspector, and the recent provisioning requests it shows (see src/inspector).
  const recorder = service.config.sandbox === true ? createRequestRecorder(service, options.recentRequests ?? new RecentRequests()) : undefined;

  const fail = (
    c: { set: (k: 'errorCode', v: string) => void; get: <K extends 'requestId' | 'correlationId' | 'callerCorrelationId'>(k: K) => Env['Variables'][K] },
    error: unknown,
    headers?: Record<string, string>,
  ): Response => {
    const problem: ProvisioningError = toProvisioningError(error);
    c.set('errorCode', problem.code);
    if (problem.family === 'internal') {
      const cause = problem.cause instanceof Error ? problem.cause : undefined;
      logger.error({
        msg: 'internal error',
        requestId: c.get('requestId'),
        correlationId: c.get('correlationId'),
        code: problem.code,
        errorName: cause?.name ?? problem.name,
      });
    }
    // The problem schema allows extension members: the caller's correlation id rides along (a generated one is in the header only).
    const response = toProblemResponse(problem, c.get('requestId'), headers);
    const callerCorrelationId = c.get('callerCorrelationId');
    const body = { ...toProblemDetails(problem, c.get('requestId')), ...(callerCorrelationId === undefined ? {} : { correlationId: callerCorrelationId }) };
    return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
  };

  app.use('*', async (c, next) => {
    const started = service.clock.now();
    const startedAt = performance.now();
    const requestId = createId('req', service.random);
    const supplied = c.req.header(CORRELATION_ID_HEADER);
    const correlationId = acceptCorrelationId(supplied, service.random);
    c.set('requestId', requestId);
    c.set('correlationId', correlationId);
    c.set('callerCorrelationId', correlationId === supplied ? correlationId : undefined);
    c.set('errorCode', undefined);
    c.set('walletProviderId', undefined);
    c.set('issuerId', undefined);
    const span = startRequestSpan(c.req.raw.headers, c.req.method, { requestId, correlationId });
    await span.run(next);
    // The pattern of the route that answered (never the raw path), or `unmatched`.
    const route = routeLabel(c.req.routePath);
    c.res.headers.set('x-request-id', requestId);
    c.res.headers.set(CORRELATION_ID_HEADER, correlationId);
    const code = c.get('errorCode');
    span.end({ route, status: c.res.status, code, walletProviderId: c.get('walletProviderId') });
    options.metrics?.observeRequest({ method: c.req.method, route, status: c.res.status, code, seconds: (performance.now() - startedAt) / 1000 });
    if (recorder && route === '/v1/provisioning-requests' && c.req.method === 'POST') {
      recorder.finish(c.req.raw, { requestId, correlationId, status: c.res.status, code, walletProviderId: c.get('walletProviderId') });
    }
    logger.info({
      msg: 'request',
      requestId,
      correlationId,
      method: c.req.method,
      // The path is caller-chosen: mask digit runs before any logger sees it.
      path: redactPans(c.req.path.slice(0, 256)),
      route,
      status: c.res.status,
      code,
      walletProviderId: c.get('walletProviderId'),
      ...(c.get('issuerId') === undefined ? {} : { issuerId: c.get('issuerId') }),
      durationMs: Math.max(0, service.clock.now() - started),
    });
    // A verification method locked for a token: worth an operator's attention (guessing, or a confused user).
    if (code === 'verification_attempts_exhausted') {
      logger.info({ msg: 'verification.locked', requestId, correlationId, route, walletProviderId: c.get('walletProviderId') });
    }
  });

  app.onError((error, c) => {
    // A body cut off at the limit is not read to its end: close the connection after the answer.
    let headers: Record<string, string> | undefined;
    if (error instanceof MethodNotAllowed) headers = { allow: error.allow };
    else if (isProvisioningError(error) && error.code === 'payload_too_large') headers = { connection: 'close' };
    return fail(c, error, headers);
  });
  app.notFound((c) => fail(c, new HttpError('not_found', 'No such resource')));

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/health/ready', async (c) => {
    c.header('cache-control', 'no-store');
    try {
      await service.ready();
      return c.json({ status: 'ready' });
    } catch (error) {
      return fail(c, error);
    }
  });
  app.get('/openapi.json', (c) => c.json(openApiDocument));
  const { metrics, metricsPath } = options;
  if (metrics && metricsPath !== undefined) {
    app.get(metricsPath, async (c) => {
      c.header('cache-control', 'no-store');
      return c.body(await metrics.scrape(), 200, { 'content-type': metrics.contentType });
    });
  }
  if (recorder) mountInspector(app as never, service, recorder.recent, maxBodyBytes);
  app.get('/.well-known/jwks.json', (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(service.publicJwks());
  });

  /** Step 2 of every POST: the media type, an Idempotency-Key, the body within its limit (before parsing). */
  const readPost = async (c: { req: { header: (name: string) => string | undefined; raw: Request }; env: Env['Bindings'] }): Promise<{ text: string; idempotencyKey: string }> => {
    const contentType = c.req.header('content-type');
    if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType.trim())) {
      throw new HttpError('unsupported_media_type', 'The body must be application/json');
    }
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey === undefined) throw new HttpError('missing_idempotency_key', 'An Idempotency-Key header is required');
    // On Node (startTokenServer), straight from the socket; elsewhere (app.fetch), from the Fetch body.
    const incoming = c.env?.incoming;
    const text = incoming ? await readIncomingBodyWithLimit(incoming, maxBodyBytes) : await readBodyWithLimit(c.req.raw, maxBodyBytes);
    return { text, idempotencyKey };
  };

  app.post('/v1/provisioning-requests', async (c) => {
    const caller = await service.authenticate(c.req.header('authorization'));
    c.set('walletProviderId', caller.walletProviderId);
    // The wallet provider's rate limit, right after authentication (429 rate_limited, Retry-After).
    await service.checkWalletProviderLimit(caller.walletProviderId);
    const { text, idempotencyKey } = await readPost(c);
    // Sandbox mode: the request inspector keeps the recent request (a bounded ring buffer).
    await recorder?.before(c.req.raw, text, caller.walletProviderId);
    // The client's disconnect is not passed on: a request it abandoned runs to its commit, so a retry
    // with the same key gets the stored answer (and a server never answers `aborted`).
    const result = await service.submit({ submission: text, walletProviderId: caller.walletProviderId, idempotencyKey });
    c.header('cache-control', 'no-store');
    c.header('location', `/v1/tokens/${encodeURIComponent(result.body.tokenReferenceId)}`);
    if (result.replayed) c.header('idempotent-replayed', 'true');
    return c.json(result.body, result.status);
  });

  // The wallet provider's token query (spec section 7.14), before `/v1/tokens/:tokenReferenceId`: `query` is no token id.
  app.post('/v1/tokens/query', async (c) => {
    const caller = await service.authenticate(c.req.header('authorization'));
    c.set('walletProviderId', caller.walletProviderId);
    await service.checkWalletProviderLimit(caller.walletProviderId);
    const { text, idempotencyKey } = await readPost(c);
    const answer = await service.queryTokens({ walletProviderId: caller.walletProviderId, body: text, idempotencyKey });
    c.header('cache-control', 'no-store');
    return c.json(answer);
  });
  app.all('/v1/tokens/query', () => {
    throw new MethodNotAllowed('POST');
  });

  app.get('/v1/tokens/:tokenReferenceId', async (c) => {
    const caller = await service.authenticate(c.req.header('authorization'));
    c.set('walletProviderId', caller.walletProviderId);
    const status = await service.getTokenStatus({ tokenReferenceId: c.req.param('tokenReferenceId'), walletProviderId: caller.walletProviderId });
    c.header('cache-control', 'no-store');
    return c.json(status);
  });

  // Step-up verification (spec sections 7.7, 7.8 and 11): the wallet provider that owns the token.
  for (const [action, run] of [
    ['verification', (input: Parameters<TokenService['startVerification']>[0]) => service.startVerification(input)],
    ['activation', (input: Parameters<TokenService['activate']>[0]) => service.activate(input)],
  ] as const) {
    app.post(`/v1/tokens/:tokenReferenceId/${action}`, async (c) => {
      const caller = await service.authenticate(c.req.header('authorization'));
      c.set('walletProviderId', caller.walletProviderId);
      await service.checkWalletProviderLimit(caller.walletProviderId);
      const { text, idempotencyKey } = await readPost(c);
      const result = await run({ tokenReferenceId: c.req.param('tokenReferenceId'), walletProviderId: caller.walletProviderId, body: text, idempotencyKey });
      c.header('cache-control', 'no-store');
      if (result.replayed) c.header('idempotent-replayed', 'true');
      return c.json(result.body, result.status);
    });
  }

  // The issuer API (spec section 7.9): an issuer assertion, tokens of the issuer's own cards only.
  app.post('/v1/issuer/tokens/:tokenReferenceId/activation', async (c) => {
    const { issuerId } = await service.authenticateIssuer(c.req.header('authorization'));
    c.set('issuerId', issuerId);
    const { text, idempotencyKey } = await readPost(c);
    const result = await service.activateByIssuer({ tokenReferenceId: c.req.param('tokenReferenceId'), issuerId, body: text, idempotencyKey });
    c.header('cache-control', 'no-store');
    if (result.replayed) c.header('idempotent-replayed', 'true');
    return c.json(result.body, result.status);
  });
  app.get('/v1/issuer/tokens/:tokenReferenceId', async (c) => {
    const { issuerId } = await service.authenticateIssuer(c.req.header('authorization'));
    c.set('issuerId', issuerId);
    const status = await service.getIssuerTokenStatus({ tokenReferenceId: c.req.param('tokenReferenceId'), issuerId });
    c.header('cache-control', 'no-store');
    return c.json(status);
  });

  // The event API (spec sections 7.12 and 7.13): an issuer or a wallet provider, its own events only.
  app.get('/v1/events', async (c) => {
    const party = await authenticateParty(service, c.req.header('authorization'));
    c.set(party.kind === 'issuer' ? 'issuerId' : 'walletProviderId', party.id);
    const page = await readEventFeed(service, party, { after: c.req.query('after'), limit: c.req.query('limit') });
    c.header('cache-control', 'no-store');
    return c.json(page);
  });
  app.post('/v1/events/:eventId/redeliver', async (c) => {
    const party = await authenticateParty(service, c.req.header('authorization'));
    c.set(party.kind === 'issuer' ? 'issuerId' : 'walletProviderId', party.id);
    const answer = await redeliverEvent(service, party, c.req.param('eventId'));
    c.header('cache-control', 'no-store');
    return c.json(answer, 202);
  });

  // The token lifecycle (spec sections 7.10, 7.11 and 12).
  app.post('/v1/tokens/:tokenReferenceId/lifecycle', async (c) => {
    const caller = await service.authenticate(c.req.header('authorization'));
    c.set('walletProviderId', caller.walletProviderId);
    await service.checkWalletProviderLimit(caller.walletProviderId);
    const { text, idempotencyKey } = await readPost(c);
    const result = await service.changeTokenLifecycle({ tokenReferenceId: c.req.param('tokenReferenceId'), walletProviderId: caller.walletProviderId, body: text, idempotencyKey });
    c.header('cache-control', 'no-store');
    if (result.replayed) c.header('idempotent-replayed', 'true');
    return c.json(result.body, result.status);
  });
  app.get('/v1/tokens/:tokenReferenceId/history', async (c) => {
    const caller = await service.authenticate(c.req.header('authorization'));
    c.set('walletProviderId', caller.walletProviderId);
    const history = await service.getTokenHistory({ tokenReferenceId: c.req.param('tokenReferenceId'), walletProviderId: caller.walletProviderId });
    c.header('cache-control', 'no-store');
    return c.json(history);
  });
  app.post('/v1/issuer/tokens/search', async (c) => {
    const { issuerId } = await service.authenticateIssuer(c.req.header('authorization'));
    c.set('issuerId', issuerId);
    const { text, idempotencyKey } = await readPost(c);
    const found = await service.searchIssuerTokens({ issuerId, body: text, idempotencyKey });
    c.header('cache-control', 'no-store');
    return c.json(found);
  });
  app.post('/v1/issuer/tokens/:tokenReferenceId/lifecycle', async (c) => {
    const { issuerId } = await service.authenticateIssuer(c.req.header('authorization'));
    c.set('issuerId', issuerId);
    const { text, idempotencyKey } = await readPost(c);
    const result = await service.changeIssuerTokenLifecycle({ tokenReferenceId: c.req.param('tokenReferenceId'), issuerId, body: text, idempotencyKey });
    c.header('cache-control', 'no-store');
    if (result.replayed) c.header('idempotent-replayed', 'true');
    return c.json(result.body, result.status);
  });
  for (const [path, run] of [
    ['/v1/issuer/cards/lifecycle', (input: Parameters<TokenService['changeIssuerCardLifecycle']>[0]) => service.changeIssuerCardLifecycle(input)],
    ['/v1/issuer/cards/events', (input: Parameters<TokenService['reportIssuerCardEvent']>[0]) => service.reportIssuerCardEvent(input)],
  ] as const) {
    app.post(path, async (c) => {
      const { issuerId } = await service.authenticateIssuer(c.req.header('authorization'));
      c.set('issuerId', issuerId);
      const { text, idempotencyKey } = await readPost(c);
      const result = await run({ issuerId, body: text, idempotencyKey });
      c.header('cache-control', 'no-store');
      if (result.replayed) c.header('idempotent-replayed', 'true');
      return c.json(result.body, result.status);
    });
  }
  app.get('/v1/issuer/tokens/:tokenReferenceId/history', async (c) => {
    const { issuerId } = await service.authenticateIssuer(c.req.header('authorization'));
    c.set('issuerId', issuerId);
    const history = await service.getIssuerTokenHistory({ tokenReferenceId: c.req.param('tokenReferenceId'), issuerId });
    c.header('cache-control', 'no-store');
    return c.json(history);
  });

  // Sandbox mode only: the codes the sandbox sender kept. Absent (404) otherwise.
  const sandbox = service.sandbox;
  if (sandbox) {
    app.get('/sandbox/inbox', (c) => {
      const tokenReferenceId = c.req.query('tokenReferenceId') ?? '';
      if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(tokenReferenceId)) throw new HttpError('invalid_message', 'tokenReferenceId (a token reference id) is required');
      c.header('cache-control', 'no-store');
      return c.json({ tokenReferenceId, messages: sandbox.inbox(tokenReferenceId) });
    });
  }

  // A known path with a method it does not serve: 405 with `Allow` (HEAD goes to the GET routes).
  for (const [path, allow] of [
    ['/health', 'GET, HEAD'],
    ['/health/ready', 'GET, HEAD'],
    ['/openapi.json', 'GET, HEAD'],
    ['/.well-known/jwks.json', 'GET, HEAD'],
    ['/v1/provisioning-requests', 'POST'],
    ['/v1/tokens/:tokenReferenceId', 'GET, HEAD'],
    ['/v1/tokens/:tokenReferenceId/verification', 'POST'],
    ['/v1/tokens/:tokenReferenceId/activation', 'POST'],
    ['/v1/issuer/tokens/:tokenReferenceId/activation', 'POST'],
    ['/v1/issuer/tokens/:tokenReferenceId', 'GET, HEAD'],
    ['/v1/events', 'GET, HEAD'],
    ['/v1/events/:eventId/redeliver', 'POST'],
    ['/v1/tokens/:tokenReferenceId/lifecycle', 'POST'],
    ['/v1/tokens/:tokenReferenceId/history', 'GET, HEAD'],
    ['/v1/issuer/tokens/search', 'POST'],
    ['/v1/issuer/tokens/:tokenReferenceId/lifecycle', 'POST'],
    ['/v1/issuer/cards/lifecycle', 'POST'],
    ['/v1/issuer/cards/events', 'POST'],
    ['/v1/issuer/tokens/:tokenReferenceId/history', 'GET, HEAD'],
    ...(sandbox ? ([['/sandbox/inbox', 'GET, HEAD']] as const) : []),
  ] as const) {
    app.all(path, () => {
      throw new MethodNotAllowed(allow);
    });
  }

  return app;
}
