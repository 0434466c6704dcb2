// Metrics, traces and logs of the token service over real HTTP on
// 127.0.0.1: the Prometheus endpoint after provisionings and refusals
// (names, labels, bounded cardinality), OpenTelemetry spans continuing the
// caller's traceparent, pino lines with request and correlation ids; the
// canary PAN nowhere in any of them.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Card, parseProblemDetails, parseProvisioningResponse } from '@pushprov/protocol';
import { CANARY_PAN, CANARY_PAN_2, findCanary } from '../../../security/src/canary.js';
import { ConfigError, createPinoLogger, parseConfig } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { API_KEY, type Fixture, PAN_DECLINE, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

const CANARY: Card = { pan: CANARY_PAN, expiry: { month: 12, year: 2030 }, cardholderName: 'Ada Lovelace' };
/** The decide hook throws for this card (an internal error, logged), with the PAN in its message. */
const CANARY_THROWS: Card = { pan: CANARY_PAN_2, expiry: { month: 12, year: 2030 } };

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let server: RunningTokenServer;
const lines: string[] = [];
const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const tokenNumbers: string[] = [];

beforeAll(async () => {
  // What a host does: a tracer provider, the W3C propagator, a context manager.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  fx = await createFixture();
  temp = createTempDir('observability-');
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
      done();
    },
  });
  server = await startTokenServer({
    config: { ...fx.config, metrics: { port: 0 } },
    dbPath: join(temp.dir, 'tokens.db'),
    clock: fx.clock,
    purgeIntervalMs: 0,
    logger: createPinoLogger({ destination: stream, clock: fx.clock }),
    decide: ({ panLast4 }) => {
      if (panLast4 === CANARY_THROWS.pan.slice(-4)) throw new Error(`issuer backend down for card ${CANARY_PAN_2}`);
      return panLast4 === '0002' ? 'decline' : 'approve';
    },
  });
});

afterAll(async () => {
  await server?.close();
  temp?.remove();
  trace.disable();
  propagation.disable();
  context.disable();
});

async function scrape(url = server.metricsUrl!): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The series of `name` (one line each): labels and value. */
function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => {
      const [, labelText, value] = /^[^{]+\{(.*)\} (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...labelText!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { labels, value: Number(value) };
    });
}

const valueOf = (text: string, name: string, labels: Record<string, string>): number =>
  series(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

/** Runs `count` tasks, `width` at a time. */
async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

describe('observability', () => {
  it('metrics: requests by route pattern, status and code; step durations; outcomes by issuer and wallet provider; store latency; no canary', async () => {
    // Two provisionings of the canary card, one answer replayed, one decline, one binding refusal, one internal error, one 401.
    const first = await buildSubmission(fx, { card: CANARY });
    const created = await postSubmission(server.url, first.submission, { idempotencyKey: 'obs-1' });
    expect(created.status).toBe(201);
    tokenNumbers.push(parseProvisioningResponse(await created.text()).accessData!.tokenNumber);
    const replay = await postSubmission(server.url, first.submission, { idempotencyKey: 'obs-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const second = await buildSubmission(fx, { card: CANARY, identifiers: createIdentifiers({ walletAccountId: 'user-43' }) });
    const created2 = await postSubmission(server.url, second.submission);
    expect(created2.status).toBe(201);
    tokenNumbers.push(parseProvisioningResponse(await created2.text()).accessData!.tokenNumber);
    const declined = await buildSubmission(fx, { card: { ...CANARY, pan: PAN_DECLINE } });
    expect((await postSubmission(server.url, declined.submission)).status).toBe(403);
    const mismatch = await buildSubmission(fx, { card: CANARY });
    expect((await postSubmission(server.url, { ...mismatch.submission, deviceId: 'device-other' })).status).toBe(422);
    const throws = await buildSubmission(fx, { card: CANARY_THROWS });
    expect((await postSubmission(server.url, throws.submission)).status).toBe(500);
    expect((await postSubmission(server.url, first.submission, { apiKey: 'x'.repeat(40) })).status).toBe(401);
    // A canary in a path: counted under its route pattern, never as itself.
    await fetch(`${server.url}/v1/tokens/${CANARY_PAN}`, { headers: { authorization: `Bearer ${API_KEY}` } });

    const text = await scrape();
    const requests = 'pushprov_token_service_http_requests_total';
    const post = { method: 'POST', route: '/v1/provisioning-requests' };
    expect(valueOf(text, requests, { ...post, status: '201', code: 'none' })).toBe(3); // two new, one replayed
    expect(valueOf(text, requests, { ...post, status: '403', code: 'declined' })).toBe(1);
    expect(valueOf(text, requests, { ...post, status: '422', code: 'device_mismatch' })).toBe(1);
    expect(valueOf(text, requests, { ...post, status: '500', code: 'internal_error' })).toBe(1);
    expect(valueOf(text, requests, { ...post, status: '401', code: 'unauthenticated' })).toBe(1);
    expect(valueOf(text, requests, { method: 'GET', route: '/v1/tokens/:tokenReferenceId', status: '404', code: 'not_found' })).toBe(1);
    expect(series(text, 'pushprov_token_service_http_request_duration_seconds_count').length).toBeGreaterThan(0);

    const steps = 'pushprov_token_service_validation_step_duration_seconds_count';
    expect(new Set(series(text, steps).map((s) => s.labels.step))).toEqual(new Set(['3', '4-11', '12', '13', '14', '15', '16']));
    expect(valueOf(text, steps, { step: '16', outcome: 'ok' })).toBe(2);
    expect(valueOf(text, steps, { step: '15', outcome: 'refused' })).toBe(2); // the decline and the hook that threw
    expect(valueOf(text, steps, { step: '13', outcome: 'refused' })).toBe(1);

    const outcomes = 'pushprov_token_service_provisioning_outcomes_total';
    const bank = { issuer: 'bank-a', wallet_provider: 'wallet-co' };
    expect(valueOf(text, outcomes, { ...bank, outcome: 'issued', code: 'none' })).toBe(2);
    expect(valueOf(text, outcomes, { ...bank, outcome: 'refused', code: 'declined' })).toBe(1);
    expect(valueOf(text, outcomes, { ...bank, outcome: 'refused', code: 'device_mismatch' })).toBe(1);
    expect(valueOf(text, outcomes, { ...bank, outcome: 'refused', code: 'internal_error' })).toBe(1);
    // A stored answer is replayed before the request is opened: its issuer is not known.
    expect(valueOf(text, outcomes, { issuer: 'unknown', wallet_provider: 'wallet-co', outcome: 'replayed' })).toBe(1);
    for (const s of series(text, outcomes)) {
      expect(['bank-a', 'unknown']).toContain(s.labels.issuer);
      expect(['wallet-co', 'wallet-two', 'unknown']).toContain(s.labels.wallet_provider);
    }

    const store = 'pushprov_token_service_store_operation_duration_seconds_count';
    expect(valueOf(text, store, { operation: 'commit', outcome: 'ok' })).toBe(2);
    expect(valueOf(text, store, { operation: 'idempotency.begin', outcome: 'ok' })).toBeGreaterThanOrEqual(5);
    expect(valueOf(text, store, { operation: 'replay.has', outcome: 'ok' })).toBeGreaterThanOrEqual(4);
    expect(valueOf(text, store, { operation: 'refuse', outcome: 'ok' })).toBe(1);
    // Node's process metrics, under the same prefix.
    expect(text).toContain('pushprov_token_service_process_cpu_seconds_total');

    expect(findCanary(text)).toEqual([]);
    for (const token of tokenNumbers) expect(text).not.toContain(token);
    // The separate listener serves the metrics; the API does not.
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await fetch(server.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('metrics: 1,000 requests to random unknown paths make one `unmatched` series', async () => {
    const before = await scrape();
    const routesBefore = new Set(series(before, 'pushprov_token_service_http_requests_total').map((s) => s.labels.route));
    await pool(1000, 16, async (i) => {
      const path = i % 10 === 0 ? `/cards/${CANARY_PAN}/${i}` : `/${Math.random().toString(36).slice(2)}/${i}`;
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(404);
      await response.arrayBuffer();
    });
    const text = await scrape();
    const unmatched = series(text, 'pushprov_token_service_http_requests_total').filter((s) => s.labels.route === 'unmatched');
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]!.labels).toEqual({ method: 'GET', route: 'unmatched', status: '404', code: 'not_found' });
    expect(unmatched[0]!.value).toBe(1000 + valueOf(before, 'pushprov_token_service_http_requests_total', { route: 'unmatched' }));
    const routesAfter = new Set(series(text, 'pushprov_token_service_http_requests_total').map((s) => s.labels.route));
    expect([...routesAfter].filter((r) => !routesBefore.has(r))).toEqual(routesBefore.has('unmatched') ? [] : ['unmatched']);
    expect(series(text, 'pushprov_token_service_http_request_duration_seconds_count').filter((s) => s.labels.route === 'unmatched')).toHaveLength(1);
    expect(findCanary(text)).toEqual([]);
  });

  it('metrics: one registry per server, off unless configured, or a path on the main listener when only `path` is set', async () => {
    const other = await startTokenServer({ config: { ...fx.config, metrics: { path: '/ops/metrics' } }, dbPath: join(temp.dir, 'other.db'), clock: fx.clock, purgeIntervalMs: 0, logger: createPinoLogger({ level: 'silent' }) });
    const plain = await startTokenServer({ config: fx.config, dbPath: join(temp.dir, 'plain.db'), clock: fx.clock, purgeIntervalMs: 0, logger: createPinoLogger({ level: 'silent' }) });
    try {
      expect(other.metricsUrl).toBe(`${other.url}/ops/metrics`);
      await fetch(`${other.url}/health`);
      const text = await scrape(other.metricsUrl);
      expect(valueOf(text, 'pushprov_token_service_http_requests_total', { route: '/health' })).toBe(1);
      // Nothing of the first server's traffic.
      expect(valueOf(text, 'pushprov_token_service_http_requests_total', { route: '/v1/provisioning-requests' })).toBe(0);
      expect(valueOf(text, 'pushprov_token_service_provisioning_outcomes_total', {})).toBe(0);
      expect(plain.metricsUrl).toBeUndefined();
      expect((await fetch(`${plain.url}/metrics`)).status).toBe(404);
    } finally {
      await other.close();
      await plain.close();
    }
    const issues = (metrics: unknown) => {
      try {
        parseConfig({ ...fx.config, metrics });
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).issues;
      }
    };
    expect(issues({})).toEqual([expect.stringMatching(/^metrics: needs port/)]);
    expect(issues({ path: '/v1/metrics' })).toEqual([expect.stringMatching(/^metrics\.path: must not be a path of the API/)]);
    expect(issues({ host: '0.0.0.0' })).toContainEqual(expect.stringMatching(/^metrics\.host: is for the separate listener/));
    expect(issues({ port: 9464, path: 'metrics' })).toEqual([expect.stringMatching(/^metrics\.path: must be an absolute URL path/)]);
    expect(parseConfig({ ...fx.config, metrics: { port: 9464 } }).metrics).toEqual({ port: 9464, path: '/metrics' });
    expect(parseConfig({ ...fx.config, metrics: { port: 9464, host: '::1', path: '/m' } }).metrics).toEqual({ port: 9464, host: '::1', path: '/m' });
  });

  it('traces: the request span continues the incoming traceparent; steps, hooks and store calls nest under it; no PAN in any span', async () => {
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentSpanId = '00f067aa0ba902b7';
    const { submission } = await buildSubmission(fx, { card: CANARY, identifiers: createIdentifiers({ walletAccountId: 'user-traced' }) });
    const response = await fetch(`${server.url}/v1/provisioning-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'traced-1', traceparent: `00-${traceId}-${parentSpanId}-01` },
      body: JSON.stringify(submission),
    });
    expect(response.status).toBe(201);
    tokenNumbers.push(parseProvisioningResponse(await response.text()).accessData!.tokenNumber);

    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const root = spans.find((s) => s.name === 'POST /v1/provisioning-requests')!;
    expect(root).toBeDefined();
    expect(root.parentSpanContext?.spanId).toBe(parentSpanId);
    expect(root.attributes).toMatchObject({ 'http.route': '/v1/provisioning-requests', 'http.response.status_code': 201, 'http.request.method': 'POST' });
    expect(root.attributes['pushprov.request_id']).toMatch(/^req_/);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const underRoot = (span: ReadableSpan): boolean => {
      for (let p = span.parentSpanContext?.spanId; p !== undefined; p = byId.get(p)?.parentSpanContext?.spanId) if (p === root.spanContext().spanId) return true;
      return false;
    };
    const names = spans.map((s) => s.name);
    for (const name of ['provisioning.step 3', 'provisioning.step 4-11', 'provisioning.step 12', 'provisioning.step 13', 'provisioning.step 14', 'provisioning.step 15', 'provisioning.step 16', 'provisioning.hook decide', 'store commit', 'store idempotency.begin', 'store replay.has']) {
      expect(names).toContain(name);
    }
    for (const span of spans) if (span !== root) expect(underRoot(span)).toBe(true);
    // The hook runs inside step 15, the commit inside step 16.
    const step = (label: string) => spans.find((s) => s.name === `provisioning.step ${label}`)!.spanContext().spanId;
    expect(spans.find((s) => s.name === 'provisioning.hook decide')!.parentSpanContext?.spanId).toBe(step('15'));
    expect(spans.find((s) => s.name === 'store commit')!.parentSpanContext?.spanId).toBe(step('16'));

    // A refusal: its step span failed with the code only.
    const declined = await buildSubmission(fx, { card: { ...CANARY, pan: PAN_DECLINE } });
    expect((await postSubmission(server.url, declined.submission)).status).toBe(403);
    const refused = exporter.getFinishedSpans().find((s) => s.name === 'provisioning.step 15' && s.attributes['pushprov.error_code'] === 'declined');
    expect(refused?.status).toEqual({ code: 2, message: 'declined' });
    // The hook that throws with the PAN in its message: the span says internal_error, nothing more.
    const throws = await buildSubmission(fx, { card: CANARY_THROWS });
    expect((await postSubmission(server.url, throws.submission)).status).toBe(500);

    const all = exporter.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links }));
    const text = JSON.stringify(all);
    expect(findCanary(text)).toEqual([]);
    for (const token of tokenNumbers) expect(text).not.toContain(token);
    expect(text).not.toContain(API_KEY);
  });

  it('logs: pino JSON lines with the request id and the correlation id (echoed, validated), no canary, the redaction rules', async () => {
    const count = lines.length;
    const good = await fetch(`${server.url}/health`, { headers: { 'x-correlation-id': 'checkout-7f3a.B_1' } });
    expect(good.headers.get('x-correlation-id')).toBe('checkout-7f3a.B_1');
    const requestId = good.headers.get('x-request-id')!;
    const line = records().slice(count).find((r) => r.requestId === requestId)!;
    expect(line).toMatchObject({ level: 'info', msg: 'request', route: '/health', status: 200, correlationId: 'checkout-7f3a.B_1' });
    expect(typeof line.time).toBe('string');

    // Not 1-128 of [A-Za-z0-9._-], or a card number: replaced by a new one.
    for (const bad of ['bad id!', 'x'.repeat(129), CANARY_PAN, `order-${CANARY_PAN}`]) {
      const response = await fetch(`${server.url}/health`, { headers: { 'x-correlation-id': bad } });
      expect(response.headers.get('x-correlation-id')).toMatch(/^cor_[A-Za-z0-9_-]+$/);
    }
    const generated = await fetch(`${server.url}/health`);
    const correlationId = generated.headers.get('x-correlation-id')!;
    expect(correlationId).toMatch(/^cor_/);
    expect(records().find((r) => r.requestId === generated.headers.get('x-request-id'))!.correlationId).toBe(correlationId);

    // A generated id is in the header only; the caller's own one is in problem details too (the problem schema allows extension members).
    const unknownPath = await fetch(`${server.url}/no-such-path`);
    expect(unknownPath.headers.get('x-correlation-id')).toMatch(/^cor_/);
    expect(parseProblemDetails(await unknownPath.text())).not.toHaveProperty('correlationId');
    // Every line of that request has it.
    const throws = await buildSubmission(fx, { card: CANARY_THROWS });
    const failed = await fetch(`${server.url}/v1/provisioning-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'logged-1', 'x-correlation-id': 'corr-internal' },
      body: JSON.stringify(throws.submission),
    });
    expect(failed.status).toBe(500);
    const problem = parseProblemDetails(await failed.text());
    expect(problem).toMatchObject({ code: 'internal_error', correlationId: 'corr-internal', requestId: failed.headers.get('x-request-id') });
    const ofRequest = records().filter((r) => r.requestId === failed.headers.get('x-request-id'));
    expect(ofRequest.map((r) => r.msg).sort()).toEqual(['internal error', 'request']);
    for (const r of ofRequest) expect(r.correlationId).toBe('corr-internal');
    expect(ofRequest.find((r) => r.msg === 'internal error')).toMatchObject({ level: 'error', code: 'internal_error' });

    // Every line so far: a request id on each request line, no canary, no token number, no API key.
    const all = lines.join('\n');
    expect(findCanary(all)).toEqual([]);
    for (const token of tokenNumbers) expect(all).not.toContain(token);
    expect(all).not.toContain(API_KEY);
    for (const r of records().filter((r) => r.msg === 'request')) {
      expect(r.requestId).toMatch(/^req_/);
      expect(typeof r.correlationId).toBe('string');
    }
    // The canary path of the first test was logged masked.
    expect(records().some((r) => r.path === '/v1/tokens/•••• 8290')).toBe(true);
  });

  it('logs: digit runs masked, known sensitive fields redacted, the level respected', () => {
    const out: string[] = [];
    const logger = createPinoLogger({ write: (l) => out.push(l), redact: ['extra.secretThing'] });
    logger.info({ msg: `card ${CANARY_PAN} seen`, note: `grouped ${CANARY_PAN.match(/.{4}/g)!.join(' ')}`, pan: CANARY_PAN, tokenNumber: '4895370000000000', otp: '123456', key: 'a-key', apiKey: API_KEY, level: 'fatal', time: 'x', count: 3, none: undefined });
    logger.error({ msg: 'internal error', code: 'internal_error' });
    const [info, error] = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(info).toEqual({
      level: 'info',
      time: expect.any(String),
      msg: 'card •••• 8290 seen',
      note: 'grouped •••• 8290',
      pan: '[redacted]',
      tokenNumber: '[redacted]',
      otp: '[redacted]',
      key: '[redacted]',
      apiKey: '[redacted]',
      count: 3,
    });
    expect(error).toMatchObject({ level: 'error', msg: 'internal error', code: 'internal_error' });
    const text = out.join('');
    expect(findCanary(text)).toEqual([]);
    expect(text).not.toContain('123456');
    expect(text).not.toContain(API_KEY);
    // Nested fields (pino directly) are redacted one level down, and the extra paths too.
    logger.pino.info({ card: { pan: CANARY_PAN }, extra: { secretThing: 's3cr3t', fine: 'ok' } }, 'nested');
    const nested = JSON.parse(out.at(-1)!) as Record<string, unknown>;
    expect(nested).toMatchObject({ card: '[redacted]', extra: { secretThing: '[redacted]', fine: 'ok' } });

    const quiet: string[] = [];
    const errorsOnly = createPinoLogger({ level: 'error', write: (l) => quiet.push(l) });
    errorsOnly.info({ msg: 'request' });
    errorsOnly.error({ msg: 'internal error' });
    expect(quiet.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['internal error']);

    expect(parseConfig(fx.config).log).toEqual({ level: 'info' });
    expect(parseConfig({ ...fx.config, log: { level: 'warn' } }).log).toEqual({ level: 'warn' });
    expect(() => parseConfig({ ...fx.config, log: { level: 'loud' } })).toThrow(/log\.level/);
  });

  it('CLI: start --log-level and --metrics-port (a listener on 127.0.0.1), a bad level is a usage error', async () => {
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const configFile = join(temp.dir, 'cli-config.json');
    writeFileSync(configFile, JSON.stringify({ ...fx.config, log: { level: 'error' } }));
    const run = (args: string[]) => {
      const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, cli, ...args], { cwd: temp.dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, out: () => out, err: () => err, exit };
    };
    const bad = run(['start', '--config', configFile, '--log-level', 'loud']);
    expect(await bad.exit).toBe(2);
    expect(bad.err()).toContain('--log-level must be one of debug, info, warn, error, silent');

    // The configuration says error; the flag says info: the listening line is written.
    const started = run(['start', '--config', configFile, '--port', '0', '--db', join(temp.dir, 'cli.db'), '--log-level', 'info', '--metrics-port', '0']);
    try {
      const deadline = Date.now() + 30_000;
      let listening: { url: string; metricsUrl: string } | undefined;
      while (!listening && Date.now() < deadline) {
        const line = started.out().split('\n').find((l) => l.includes('"msg":"listening"'));
        if (line) listening = JSON.parse(line) as { url: string; metricsUrl: string };
        else await new Promise((r) => setTimeout(r, 50));
      }
      expect(listening, started.err()).toBeDefined();
      expect(listening!.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect((await fetch(`${listening!.url}/health`, { headers: { 'x-correlation-id': 'cli-check' } })).headers.get('x-correlation-id')).toBe('cli-check');
      const text = await scrape(listening!.metricsUrl);
      expect(valueOf(text, 'pushprov_token_service_http_requests_total', { route: '/health', status: '200' })).toBe(1);
      // The request's log line reaches the pipe after the response may have: wait for it, bounded.
      const logged = Date.now() + 10_000;
      while (!started.out().includes('"correlationId":"cli-check"') && Date.now() < logged) await new Promise((r) => setTimeout(r, 50));
      expect(started.out()).toContain('"correlationId":"cli-check"');
    } finally {
      started.child.kill('SIGTERM');
      await started.exit;
    }
  }, 60_000);
});
