// The request inspector (issue 19) over real HTTP on 127.0.0.1, on SQLite:
// in sandbox mode only (404 and nothing kept otherwise); a dry run that
// fails each submission at its step (3 to 15) with the decoded headers,
// the masked claims, the binding side by side and the troubleshooting
// entry, and changes nothing (no row written, the jti and the idempotency
// key still usable); recent requests by request id and correlation id,
// with the service's own answer (steps 1 and 2 included); the ring buffer
// is bounded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@pushprov/protocol';
import { type InspectionReport, RecentRequests, createTokenService, createTokenServiceApp, mergeRecordedAnswer, silentLogger } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { API_KEY, CARD, type Fixture, PAN, buildSubmission, countRows, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';
import { failingCases } from './inspector-cases.js';

const TROUBLESHOOTING = readFileSync(fileURLToPath(new URL('../../../docs/troubleshooting.md', import.meta.url)), 'utf8');

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let server: RunningTokenServer;
let dbPath: string;

beforeAll(async () => {
  fx = await createFixture();
  temp = createTempDir('inspector-');
  dbPath = join(temp.dir, 'tokens.db');
  server = await startTokenServer({ config: { ...fx.config, sandbox: true }, dbPath, clock: fx.clock, purgeIntervalMs: 0, logger: silentLogger });
});

afterAll(async () => {
  await server?.close();
  temp?.remove();
});

async function inspect(body: string, walletProviderId?: string): Promise<InspectionReport> {
  const response = await fetch(`${server.url}/sandbox/inspector/inspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ submission: body, ...(walletProviderId ? { walletProviderId } : {}) }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as InspectionReport;
}

/** No run of 12 or more digits anywhere: no card or token number. */
const expectNoNumbers = (value: unknown) => expect(JSON.stringify(value)).not.toMatch(/[0-9]{12,}/);

describe('the request inspector outside sandbox mode', () => {
  it('does not exist (404) and keeps no request', async () => {
    const plain = await startTokenServer({ config: fx.config, dbPath: join(temp.dir, 'plain.db'), clock: fx.clock, purgeIntervalMs: 0, logger: silentLogger });
    try {
      for (const path of ['/sandbox/inspector', '/sandbox/inspector/app.js', '/sandbox/inspector/requests', '/sandbox/inspector/requests/req_x']) {
        expect((await fetch(`${plain.url}${path}`)).status, path).toBe(404);
      }
      const post = await fetch(`${plain.url}/sandbox/inspector/inspect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"submission":{}}' });
      expect(post.status).toBe(404);
      await expect(plain.service.inspect({ submission: '{}' })).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await plain.close();
    }
    // The app keeps nothing either: its recent requests stay empty whatever it serves.
    const recent = new RecentRequests();
    const app = createTokenServiceApp(createTokenService(fx.config, undefined, { clock: fx.clock }), { logger: silentLogger, recentRequests: recent });
    const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers() });
    const response = await app.fetch(
      new Request('http://localhost/v1/provisioning-requests', {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'plain-1' },
        body: JSON.stringify(submission),
      }),
    );
    expect(response.status).toBe(201);
    expect(recent.size).toBe(0);
  });
});

describe('the request inspector in sandbox mode', () => {
  it('a dry run fails each submission at its step, with headers, masked claims, binding and troubleshooting entry, and changes nothing', async () => {
    const cases = await failingCases(fx);
    expect(cases.map((c) => c.step)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    for (const c of cases) {
      if (c.useFirst) expect((await postSubmission(server.url, c.body)).status).toBe(201);
      const before = countRows(dbPath);
      const report = await inspect(c.body);
      expect(countRows(dbPath), `step ${c.step} wrote nothing`).toEqual(before);
      expect(report.outcome, `step ${c.step}`).toEqual({ status: 'failed', step: c.step, code: c.code });
      expect(report.steps.map((s) => s.step)).toEqual([...Array(16).keys()].map((i) => i + 1));
      const failed = report.steps.filter((s) => s.status === 'failed');
      expect(failed).toEqual([expect.objectContaining({ step: c.step, code: c.code, troubleshooting: `docs/troubleshooting.md#${c.code}` })]);
      expect(ERROR_CODES).toContain(c.code);
      // The link lands on an entry of docs/troubleshooting.md.
      expect(TROUBLESHOOTING).toContain(`### \`${c.code}\``);
      for (const s of report.steps) {
        if (s.step < 3) expect(s.status).toBe('not_checked');
        else if (s.step > 3 && s.step < c.step) expect(s.status, `step ${s.step} before ${c.step}`).toBe('passed');
        else if (s.step > c.step) expect(s.status).toBe('not_reached');
      }
      // The parts decoded up to the failing step.
      if (c.step >= 4) expect(report.jweHeader).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT' });
      if (c.step >= 6) expect(report.jwsHeader).toMatchObject({ alg: 'ES256' });
      if (c.step >= 7) expect(report.claims).toMatchObject({ card: { pan: expect.stringMatching(/^•••• \d{4}$/) } });
      if (c.step >= 13) expect(report.binding?.map((r) => r.field)).toEqual(['sessionId', 'walletProviderId', 'walletAccountId', 'deviceId', 'nonce', 'deviceKey']);
      expectNoNumbers(report);
    }
    // The binding side by side: the device differs, nothing else.
    const binding = (await inspect(cases.find((c) => c.step === 13)!.body)).binding!;
    expect(binding.filter((r) => !r.matches)).toEqual([{ field: 'deviceId', claim: expect.stringMatching(/^device-/), submission: 'device-somewhere-else', matches: false }]);
    // A wallet provider the request is not for: the binding is compared with it.
    const valid = JSON.stringify((await buildSubmission(fx, { identifiers: createIdentifiers() })).submission);
    expect((await inspect(valid, 'wallet-two')).outcome).toEqual({ status: 'failed', step: 13, code: 'wallet_provider_mismatch' });
  });

  it('never uses anything up: an inspected request is then accepted, a declined one declined (not replayed), with its idempotency key', async () => {
    const cases = await failingCases(fx);
    const declined = cases.find((c) => c.step === 15)!;
    const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers() });
    const ok = await inspect(JSON.stringify(submission));
    expect(ok.outcome).toEqual({ status: 'passed' });
    expect(ok.steps.find((s) => s.step === 15)).toMatchObject({ status: 'passed', note: 'The sandbox rules answer approve.' });
    expect(ok.steps.find((s) => s.step === 16)).toMatchObject({ status: 'not_checked' });
    await inspect(declined.body);
    await inspect(declined.body);
    expect((await postSubmission(server.url, submission, { idempotencyKey: 'inspected-1' })).status).toBe(201);
    const refused = await postSubmission(server.url, declined.body, { idempotencyKey: 'inspected-2' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('declined');
  });

  it('shows a recent request by request id or correlation id, with the service’s answer, steps 1 and 2 included', async () => {
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(`${server.url}/v1/provisioning-requests`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers() });
    const unauthenticated = await post(submission, { authorization: 'Bearer wrong-key-wrong-key-wrong-key-0000', 'idempotency-key': 'r-1', 'x-correlation-id': 'case-unauth' });
    expect(unauthenticated.status).toBe(401);
    const noKey = await post(submission, { authorization: `Bearer ${API_KEY}`, 'x-correlation-id': 'case-no-key' });
    expect(noKey.status).toBe(400);
    const moved = await post({ ...submission, deviceId: 'device-elsewhere' }, { authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'r-2', 'x-correlation-id': 'case-moved' });
    expect(moved.status).toBe(422);
    const issued = await post(submission, { authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'r-3', 'x-correlation-id': 'case-issued' });
    expect(issued.status).toBe(201);
    const issuedBody = await issued.text();
    const tokenNumber = (JSON.parse(issuedBody) as { accessData: { tokenNumber: string } }).accessData.tokenNumber;

    const byId = async (id: string) => {
      const response = await fetch(`${server.url}/sandbox/inspector/requests/${encodeURIComponent(id)}`);
      expect(response.status).toBe(200);
      return (await response.json()) as InspectionReport;
    };
    const unauth = await byId('case-unauth');
    expect(unauth).toMatchObject({ source: 'recorded', outcome: { status: 'failed', step: 1, code: 'unauthenticated' }, request: { status: 401, correlationId: 'case-unauth' } });
    expect(unauth.steps.filter((s) => s.status !== 'not_reached').map((s) => s.step)).toEqual([1]);
    expect((await byId('case-no-key')).outcome).toEqual({ status: 'failed', step: 2, code: 'missing_idempotency_key' });
    const movedReport = await byId(moved.headers.get('x-request-id')!);
    expect(movedReport.outcome).toEqual({ status: 'failed', step: 13, code: 'device_mismatch' });
    expect(movedReport.request).toMatchObject({ correlationId: 'case-moved', walletProviderId: 'wallet-co', status: 422 });
    expect(movedReport.steps.filter((s) => s.step < 13).every((s) => s.status === 'passed')).toBe(true);
    const issuedReport = await byId('case-issued');
    expect(issuedReport.outcome).toEqual({ status: 'passed' });
    expect(issuedReport.steps.every((s) => s.status === 'passed')).toBe(true);
    // Recorded before it ran: its step 12 saw the jti unused.
    expect(issuedReport.steps.find((s) => s.step === 12)!.status).toBe('passed');
    for (const report of [unauth, movedReport, issuedReport]) {
      expectNoNumbers(report);
      expect(JSON.stringify(report)).not.toContain(tokenNumber);
      expect(JSON.stringify(report)).not.toContain(PAN);
    }
    // The same key and body again: the stored answer, shown at step 3 (the dry run found its jti used).
    const again = await post(submission, { authorization: `Bearer ${API_KEY}`, 'idempotency-key': 'r-3', 'x-correlation-id': 'case-again' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const againReport = await byId('case-again');
    expect(againReport.outcome).toEqual({ status: 'passed' });
    expect(againReport.steps.find((s) => s.step === 3)!.note).toContain('stored answer');
    expect(againReport.steps.filter((s) => s.step > 3).every((s) => s.status === 'not_reached')).toBe(true);
    const list = (await (await fetch(`${server.url}/sandbox/inspector/requests`)).json()) as { requests: { requestId: string; correlationId: string }[]; walletProviders: string[] };
    expect(list.requests.slice(0, 5).map((r) => r.correlationId)).toEqual(['case-again', 'case-issued', 'case-moved', 'case-no-key', 'case-unauth']);
    expect(list.walletProviders).toEqual(['wallet-co', 'wallet-two']);
    expect((await fetch(`${server.url}/sandbox/inspector/requests/nothing-like-this`)).status).toBe(404);
    // Its own input is bounded and typed like the API's.
    const tooLarge = await fetch(`${server.url}/sandbox/inspector/inspect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ submission: 'x'.repeat(70_000) }) });
    expect(tooLarge.status).toBe(413);
    const notJson = await fetch(`${server.url}/sandbox/inspector/inspect`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(notJson.status).toBe(415);
    const noSubmission = await fetch(`${server.url}/sandbox/inspector/inspect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"other":1}' });
    expect(((await noSubmission.json()) as { code: string }).code).toBe('invalid_message');
    // The page is served with a strict CSP.
    const page = await fetch(`${server.url}/sandbox/inspector`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('Request inspector');
  });

  it('keeps at most its capacity of requests; a rate limited request is shown at its step; leaving sandbox mode by a reload forgets them', async () => {
    const recent = new RecentRequests(3);
    for (let i = 0; i < 5; i++) recent.add({ info: { requestId: `req_${i}`, correlationId: `cor_${i}`, at: '', status: 401 }, report: mergeRecordedAnswer(undefined, { requestId: `req_${i}`, correlationId: `cor_${i}`, at: '', status: 401, code: 'unauthenticated' }) });
    expect(recent.size).toBe(3);
    expect(recent.list().map((r) => r.requestId)).toEqual(['req_4', 'req_3', 'req_2']);
    expect(recent.find('cor_0')).toBeUndefined();
    // A rate limit the dry run does not count: shown at the last step that answers with it before the dry run's end.
    const dry = await server.service.inspect({ submission: JSON.stringify((await buildSubmission(fx, { card: CARD, identifiers: createIdentifiers() })).submission) });
    const limited = mergeRecordedAnswer(dry, { requestId: 'req_l', correlationId: 'cor_l', at: '', status: 429, code: 'rate_limited' });
    expect(limited.outcome).toEqual({ status: 'failed', step: 14, code: 'rate_limited' });
    expect(mergeRecordedAnswer(undefined, { requestId: 'req_w', correlationId: 'cor_w', at: '', status: 429, code: 'rate_limited' }).outcome).toEqual({ status: 'failed', step: 1, code: 'rate_limited' });

    const other = await startTokenServer({ config: { ...fx.config, sandbox: true }, dbPath: join(temp.dir, 'reload.db'), clock: fx.clock, purgeIntervalMs: 0, logger: silentLogger });
    try {
      await postSubmission(other.url, '{}', { apiKey: 'x'.repeat(40) });
      expect(((await (await fetch(`${other.url}/sandbox/inspector/requests`)).json()) as { requests: unknown[] }).requests).toHaveLength(1);
      await other.reload(fx.config);
      expect((await fetch(`${other.url}/sandbox/inspector/requests`)).status).toBe(404);
      await other.reload({ ...fx.config, sandbox: true });
      expect(((await (await fetch(`${other.url}/sandbox/inspector/requests`)).json()) as { requests: unknown[] }).requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});
