// `pushprov-conformance token-service` against the reference token service,
// started from its CLI (SQLite in a temporary folder, 127.0.0.1, a free
// port, stopped by PID): every applicable case passes. Then against broken
// copies of it: a tiny node:http proxy in front of the same service alters
// one thing in its answers, and the runner must catch each alteration, case
// by case, with a non-zero exit.
import { readFileSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECIPES, createOriginClient, loadVectors, runTokenServiceConformance } from '../src/index.js';
import type { Report } from '../src/report.js';
import { type ReferenceService, killChildren, runCli, startReferenceService, tempDir } from './helpers.js';

const temp = tempDir('conformance-ts-');
let service: ReferenceService;
let profilePath: string;
const servers: Server[] = [];

beforeAll(async () => {
  service = await startReferenceService(temp.dir);
  profilePath = join(temp.dir, 'profile.json');
  writeFileSync(profilePath, JSON.stringify(service.profile, null, 2));
}, 60_000);
afterAll(async () => {
  for (const server of servers) server.closeAllConnections(), server.close();
  await service?.stop();
  killChildren();
  temp.remove();
});

const negativeVectors = loadVectors().cases.filter((c) => c.kind === 'provisioning-request' && c.expected.outcome === 'error');
const readReport = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Report;
const resultOf = (report: Report, id: string) => {
  const found = report.results.find((r) => r.id === id);
  if (!found) throw new Error(`no result for ${id}`);
  return found;
};

function listen(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** What a proxy may change in an answer. */
interface Answer {
  method: string;
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A node:http proxy in front of the service that passes every request on and lets `alter` change each answer. */
function startProxy(alter: (answer: Answer) => void): Promise<string> {
  const upstream = new URL(service.url);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (chunk: Buffer) => body.push(chunk));
          up.on('end', () => {
            const answer: Answer = { method: req.method ?? 'GET', path: req.url ?? '/', status: up.statusCode ?? 502, headers: { ...up.headers }, body: Buffer.concat(body).toString('utf8') };
            alter(answer);
            delete answer.headers['content-length'];
            delete answer.headers['transfer-encoding'];
            delete answer.headers.connection;
            res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
            res.end(answer.body);
          });
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  return listen(server);
}

describe('the reference token service passes', () => {
  it('every applicable case, over the CLI: exit 0, the table, JUnit and JSON', async () => {
    const junit = join(temp.dir, 'out', 'ts.xml');
    const json = join(temp.dir, 'out', 'ts.json');
    const run = await runCli(['token-service', '--base-url', service.url, '--profile', profilePath, '--junit', junit, '--json', json]);
    expect(run.stderr).toBe('');
    const report = readReport(json);
    expect(report.results.filter((r) => r.status === 'failed')).toEqual([]);
    expect(run.code).toBe(0);
    // This profile names everything, so nothing is left out: every negative vector was re-sealed and passed.
    expect(report.summary.notApplicable).toBe(0);
    for (const vector of negativeVectors) expect(resultOf(report, vector.id).status, vector.id).toBe('passed');
    for (const id of ['ts-provision-device-key', 'ts-idempotent-replay', 'ts-already-provisioned', 'ts-replayed', 'ts-token-status', 'ts-http-method-not-allowed', 'ts-http-token-other-provider']) {
      expect(resultOf(report, id).status, id).toBe('passed');
    }
    expect(run.stdout).toContain('CONFORMANT');
    expect(run.stdout).not.toContain('NOT CONFORMANT');
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain(`tests="${report.summary.total}" failures="0"`);
  }, 120_000);

  it('lists, with the reason, the cases a profile does not make possible (never drops them)', async () => {
    const { otherWalletProvider: _o, decliningCard: _d, ...minimal } = service.profile;
    const report = await runTokenServiceConformance({
      baseUrl: service.url,
      profile: { ...minimal, walletProvider: { id: 'wallet-c', apiKey: service.profile.walletProvider.apiKey! }, statusEndpoint: false },
      filter: (id) => id.startsWith('pr-') || id.startsWith('ts-auth-') || id.startsWith('ts-http-token-') || id === 'ts-token-status',
    });
    expect(report.ok).toBe(true);
    expect(report.results.filter((r) => r.id.startsWith('pr-')).map((r) => r.id)).toEqual(negativeVectors.map((v) => v.id));
    const skipped = Object.fromEntries(report.results.filter((r) => r.status === 'not_applicable').map((r) => [r.id, r.reason]));
    expect(Object.keys(skipped).sort()).toEqual(
      [
        'pr-declined',
        'pr-wallet-provider-not-allowed',
        'pr-wallet-provider-not-allowed-after-device-key',
        'ts-auth-client-assertion',
        'ts-auth-assertion-single-use',
        'ts-auth-assertion-other-audience',
        'ts-token-status',
        'ts-http-token-unknown',
        'ts-http-token-other-provider',
      ].sort(),
    );
    expect(skipped['pr-declined']).toMatch(/decliningCard/);
    expect(skipped['pr-wallet-provider-not-allowed']).toMatch(/otherWalletProvider/);
  }, 60_000);

  it('runs the yellow path cases, and lists them as not applicable, with the reason, without a step-up card, a code inbox or another issuer', async () => {
    const yellow = (id: string) => id.startsWith('ts-yellow-');
    const full = await runTokenServiceConformance({ baseUrl: service.url, profile: service.profile, filter: yellow });
    expect(full.results.map((r) => [r.id, r.status])).toEqual([
      ['ts-yellow-pending', 'passed'],
      ['ts-yellow-wrong-code', 'passed'],
      ['ts-yellow-right-code', 'passed'],
      ['ts-yellow-code-once', 'passed'],
      ['ts-yellow-other-issuer', 'passed'],
    ]);
    const { codeInbox: _c, otherIssuer: _o, ...noInbox } = service.profile;
    const partial = await runTokenServiceConformance({ baseUrl: service.url, profile: noInbox, filter: yellow });
    expect(Object.fromEntries(partial.results.map((r) => [r.id, r.status === 'not_applicable' ? r.reason : r.status]))).toEqual({
      'ts-yellow-pending': 'passed',
      'ts-yellow-wrong-code': expect.stringMatching(/codeInbox/),
      'ts-yellow-right-code': expect.stringMatching(/codeInbox/),
      'ts-yellow-code-once': expect.stringMatching(/codeInbox/),
      'ts-yellow-other-issuer': expect.stringMatching(/otherIssuer/),
    });
    const { stepUpCard: _s, ...none } = service.profile;
    const absent = await runTokenServiceConformance({ baseUrl: service.url, profile: none, filter: yellow });
    expect(absent.results.every((r) => r.status === 'not_applicable' && /stepUpCard/.test(r.reason ?? ''))).toBe(true);
  }, 60_000);

  it('has a re-sealing recipe for every negative provisioning-request vector', () => {
    expect(negativeVectors.length).toBeGreaterThanOrEqual(50);
    expect(negativeVectors.filter((v) => !(v.id in RECIPES)).map((v) => v.id)).toEqual([]);
    expect(Object.keys(RECIPES).filter((id) => !negativeVectors.some((v) => v.id === id))).toEqual([]);
  });

  it('contacts nothing but the given origin', async () => {
    const seen: string[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const report = await runTokenServiceConformance({ baseUrl: service.url, profile: service.profile, fetch: recording });
    expect(report.ok).toBe(true);
    expect(seen.length).toBeGreaterThan(80);
    expect([...new Set(seen.map((url) => new URL(url).origin))]).toEqual([new URL(service.url).origin]);
    // And it refuses, before sending anything, a URL of another origin.
    const client = createOriginClient(service.url, { fetch: recording });
    const before = seen.length;
    await expect(client.request('http://127.0.0.2:1/.well-known/jwks.json')).rejects.toThrow(/only talks to/);
    expect(seen.length).toBe(before);
  }, 60_000);

  it('times out a service that does not answer (--timeout-ms), and fails instead of hanging', async () => {
    const silent = createServer(() => {
      // Never answers.
    });
    const url = await listen(silent);
    const started = Date.now();
    const run = await runCli(['token-service', '--base-url', url, '--profile', profilePath, '--timeout-ms', '300', '--only', 'ts-jwks,ts-provision-clear']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/✗ ts-jwks: .*\n.*\n\s+actual:\s+.*did not answer within 300 ms/);
    expect(run.stdout).toContain('docs/troubleshooting.md#timeout');
  }, 30_000);
});

describe('a broken token service is caught, case by case', () => {
  /** Runs the CLI against a proxy that applies `alter`, on the cases `only` names; returns the exit code and the report. */
  async function runBroken(name: string, alter: (answer: Answer) => void, only: string[]): Promise<{ code: number | null; report: Report; stdout: string }> {
    const url = await startProxy(alter);
    const json = join(temp.dir, `broken-${name}.json`);
    const run = await runCli(['token-service', '--base-url', url, '--profile', profilePath, '--json', json, '--only', only.join(',')]);
    return { code: run.code, report: readReport(json), stdout: run.stdout };
  }
  const statuses = (report: Report) => Object.fromEntries(report.results.map((r) => [r.id, r.status]));

  it('one code turned into another (jwe_header_rejected → decryption_failed)', async () => {
    const { code, report } = await runBroken(
      'code',
      (a) => {
        a.body = a.body.replace(/jwe_header_rejected/g, 'decryption_failed');
      },
      ['pr-jwe-*', 'pr-signed-not-encrypted', 'pr-binding-nonce'],
    );
    expect(code).toBe(1);
    const expectedFail = negativeVectors.filter((v) => (v.expected as { code: string }).code === 'jwe_header_rejected').map((v) => v.id);
    expect(expectedFail.length).toBeGreaterThanOrEqual(10);
    for (const id of expectedFail) expect(statuses(report)[id], id).toBe('failed');
    expect(statuses(report)['pr-jwe-unknown-kid']).toBe('passed');
    expect(statuses(report)['pr-binding-nonce']).toBe('passed');
    expect(resultOf(report, 'pr-jwe-zip')).toMatchObject({
      expected: '422 jwe_header_rejected (POST /v1/provisioning-requests)',
      actual: '422 decryption_failed',
      code: 'jwe_header_rejected',
      troubleshooting: 'docs/troubleshooting.md#jwe_header_rejected',
    });
  }, 60_000);

  it('201 answered as 200', async () => {
    const { code, report } = await runBroken(
      'created',
      (a) => {
        if (a.status === 201) a.status = 200;
      },
      ['ts-provision-clear', 'ts-provision-device-key', 'ts-http-media-type', 'pr-binding-device'],
    );
    expect(code).toBe(1);
    expect(statuses(report)).toEqual({ 'ts-provision-device-key': 'failed', 'ts-provision-clear': 'failed', 'ts-http-media-type': 'passed', 'pr-binding-device': 'passed' });
    expect(resultOf(report, 'ts-provision-clear').expected).toMatch(/^201 Created/);
    expect(resultOf(report, 'ts-provision-clear').actual).toMatch(/^200 /);
  }, 60_000);

  it('Retry-After dropped from a retryable 409', async () => {
    const { code, report } = await runBroken(
      'retry-after',
      (a) => {
        delete a.headers['retry-after'];
      },
      ['ts-idempotency-concurrent', 'ts-replayed'],
    );
    expect(code).toBe(1);
    expect(statuses(report)).toEqual({ 'ts-replayed': 'passed', 'ts-idempotency-concurrent': 'failed' });
    expect(resultOf(report, 'ts-idempotency-concurrent')).toMatchObject({ actual: 'Retry-After none', code: 'idempotency_in_flight' });
  }, 60_000);

  it('WWW-Authenticate dropped from a 401', async () => {
    const { code, report } = await runBroken(
      'www-authenticate',
      (a) => {
        delete a.headers['www-authenticate'];
      },
      ['ts-http-no-credential', 'ts-http-bad-credential', 'ts-http-media-type'],
    );
    expect(code).toBe(1);
    expect(statuses(report)).toEqual({ 'ts-http-no-credential': 'failed', 'ts-http-bad-credential': 'failed', 'ts-http-media-type': 'passed' });
    expect(resultOf(report, 'ts-http-no-credential').actual).toBe('no WWW-Authenticate header');
  }, 60_000);

  it('a code answered with another status than the catalog’s (replayed 409 → 422)', async () => {
    const { code, report } = await runBroken(
      'status',
      (a) => {
        if (a.status === 409 && a.body.includes('"replayed"')) a.status = 422;
      },
      ['pr-replayed', 'ts-replayed', 'pr-binding-session'],
    );
    expect(code).toBe(1);
    expect(statuses(report)).toEqual({ 'ts-replayed': 'failed', 'pr-replayed': 'failed', 'pr-binding-session': 'passed' });
    expect(resultOf(report, 'pr-replayed')).toMatchObject({ actual: '422 replayed', code: 'replayed' });
  }, 60_000);

  it('a replayed answer not marked Idempotent-Replayed, or not the same bytes', async () => {
    let seen = 0;
    const { code, report } = await runBroken(
      'replay',
      (a) => {
        if (a.headers['idempotent-replayed'] === undefined) return;
        delete a.headers['idempotent-replayed'];
        seen++;
      },
      ['ts-idempotent-replay', 'ts-idempotency-key-reused'],
    );
    expect(seen).toBeGreaterThan(0);
    expect(code).toBe(1);
    expect(statuses(report)).toEqual({ 'ts-idempotent-replay': 'failed', 'ts-idempotency-key-reused': 'passed' });
    const bytes = await runBroken(
      'replay-bytes',
      (a) => {
        if (a.headers['idempotent-replayed'] === 'true') a.body = JSON.stringify(JSON.parse(a.body), null, 1);
      },
      ['ts-idempotent-replay'],
    );
    expect(bytes.code).toBe(1);
    expect(resultOf(bytes.report, 'ts-idempotent-replay').expected).toMatch(/byte for byte/);
  }, 60_000);

  it('X-Request-Id missing, a problem without requestId, Location missing', async () => {
    const { code, report } = await runBroken(
      'headers',
      (a) => {
        if (a.status === 404) delete a.headers['x-request-id'];
        if (a.status === 415) a.body = JSON.stringify({ ...(JSON.parse(a.body) as object), requestId: undefined });
        if (a.status === 201) delete a.headers.location;
      },
      ['ts-http-not-found', 'ts-http-request-id', 'ts-http-media-type', 'ts-provision-clear', 'ts-http-missing-idempotency-key'],
    );
    expect(code).toBe(1);
    expect(statuses(report)).toEqual({
      'ts-provision-clear': 'failed',
      'ts-http-media-type': 'failed',
      'ts-http-missing-idempotency-key': 'passed',
      'ts-http-not-found': 'failed',
      'ts-http-request-id': 'failed',
    });
    expect(resultOf(report, 'ts-http-not-found').actual).toBe('no X-Request-Id header');
    expect(resultOf(report, 'ts-provision-clear').actual).toBe('Location none');
  }, 60_000);
});
