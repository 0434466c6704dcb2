// `pushprov-conformance vectors`: the reference adapter passes every case;
// broken adapters are caught, case by case, with a non-zero exit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareOutcome, loadVectors, runVectorConformance, splitCommand } from '../src/index.js';
import type { Report } from '../src/report.js';
import { ADAPTER_JS, NODE_TS, killChildren, runCli, tempDir } from './helpers.js';

afterAll(killChildren);
const temp = tempDir('conformance-vectors-');
afterAll(() => temp.remove());

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
const referenceAdapter = [...NODE_TS, ADAPTER_JS].map(quote).join(' ');
const brokenAdapter = (...args: string[]) => [process.execPath, join(import.meta.dirname, 'fixtures', 'broken-adapter.mjs'), ...args].map(quote).join(' ');
const vectors = loadVectors();

describe('vectors with the reference adapter', () => {
  it('passes every case, exit 0, with JUnit and JSON written', async () => {
    const junit = join(temp.dir, 'ref', 'vectors.xml');
    const json = join(temp.dir, 'ref', 'vectors.json');
    const run = await runCli(['vectors', '--adapter', referenceAdapter, '--junit', junit, '--json', json]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.summary).toEqual({ total: vectors.cases.length, passed: vectors.cases.length, failed: 0, notApplicable: 0 });
    expect(report.results.map((r) => r.id)).toEqual(vectors.cases.map((c) => c.id));
    expect(run.stdout).toMatch(new RegExp(`${vectors.cases.length} cases: ${vectors.cases.length} passed, 0 failed, 0 not applicable — CONFORMANT`));
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain(`tests="${vectors.cases.length}" failures="0"`);
    expect(xml.match(/<testcase /g)).toHaveLength(vectors.cases.length);
  });

  it('narrows to the kinds claimed: the others are not applicable', async () => {
    const report = await runVectorConformance({ adapter: referenceAdapter, kinds: ['message', 'problem-details'] });
    expect(report.ok).toBe(true);
    const applicable = vectors.cases.filter((c) => c.kind === 'message' || c.kind === 'problem-details').length;
    expect(report.summary.passed).toBe(applicable);
    expect(report.summary.notApplicable).toBe(vectors.cases.length - applicable);
    expect(report.results.find((r) => r.id === 'pr-valid-es256')).toMatchObject({ status: 'not_applicable', reason: expect.stringContaining('--kinds') });
  });
});

describe('vectors with broken adapters', () => {
  it('an adapter that refuses nothing fails every negative case, naming expected, actual and the troubleshooting entry; exit 1', async () => {
    const json = join(temp.dir, 'accept-all.json');
    const run = await runCli(['vectors', '--adapter', brokenAdapter('accept-all'), '--json', json]);
    expect(run.code).toBe(1);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    const negative = vectors.cases.filter((c) => c.expected.outcome === 'error');
    const failed = report.results.filter((r) => r.status === 'failed');
    // Every negative case fails, and so does every positive case whose expectation names values the adapter did not give.
    for (const c of negative) expect(failed.map((r) => r.id)).toContain(c.id);
    expect(report.results.find((r) => r.id === 'inv-valid-es256')).toMatchObject({ status: 'passed' }); // expects nothing but ok
    expect(report.results.find((r) => r.id === 'pr-jwe-zip')).toMatchObject({
      status: 'failed',
      expected: 'error jwe_header_rejected',
      actual: '{"outcome":"ok"}',
      code: 'jwe_header_rejected',
      troubleshooting: 'docs/troubleshooting.md#jwe_header_rejected',
    });
    expect(run.stdout).toContain('✗ pr-jwe-zip: A JWE with zip (compressed plaintext) is refused');
    expect(run.stdout).toContain('see:      docs/troubleshooting.md#jwe_header_rejected');
    expect(run.stdout).toContain('NOT CONFORMANT');
  });

  it('an adapter that answers one case with another code fails exactly that case', async () => {
    const report = await runVectorConformance({ adapter: brokenAdapter('wrong-code', 'pr-jwe-zip', 'decryption_failed'), kinds: ['provisioning-request'], filter: (id) => id.startsWith('pr-jwe-') });
    expect(report.ok).toBe(false);
    expect(report.results.find((r) => r.id === 'pr-jwe-zip')).toMatchObject({ status: 'failed', expected: 'error jwe_header_rejected', actual: 'error decryption_failed' });
    expect(report.results.filter((r) => r.id !== 'pr-jwe-zip').every((r) => r.status === 'failed')).toBe(true); // the others answered ok
  });

  it('a case the adapter never answers times out; the adapter is restarted and the next cases run', async () => {
    const started = Date.now();
    const report = await runVectorConformance({
      adapter: brokenAdapter('hang-on', 'inv-valid-es256'),
      timeoutMs: 300,
      filter: (id) => ['inv-valid-es256', 'inv-valid-eddsa', 'inv-tampered-last4'].includes(id),
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(report.results.map((r) => [r.id, r.status])).toEqual([
      ['inv-valid-es256', 'failed'],
      ['inv-valid-eddsa', 'passed'],
      ['inv-tampered-last4', 'failed'],
    ]);
    expect(report.results[0]!.actual).toContain('timed out');
  });

  it('an adapter that cannot start fails every case instead of passing', async () => {
    const report = await runVectorConformance({ adapter: [join(temp.dir, 'no-such-adapter')], filter: (id) => id.startsWith('inv-') });
    expect(report.ok).toBe(false);
    expect(report.summary.failed).toBe(report.summary.total);
  });
});

describe('the comparison and the command line', () => {
  it('compares as docs/conformance.md defines: every expected member equal, extra members allowed, exactly the code', () => {
    expect(compareOutcome({ outcome: 'ok', value: { a: 1, b: [1, 2] } }, { outcome: 'ok', value: { b: [1, 2], a: 1 }, extra: true }).pass).toBe(true);
    expect(compareOutcome({ outcome: 'ok', value: { a: 1 } }, { outcome: 'ok', value: { a: 2 } }).pass).toBe(false);
    expect(compareOutcome({ outcome: 'error', code: 'expired' }, { outcome: 'error', code: 'expired' }).pass).toBe(true);
    expect(compareOutcome({ outcome: 'error', code: 'expired' }, { outcome: 'error', code: 'not_yet_valid' }).pass).toBe(false);
    expect(compareOutcome({ outcome: 'ok' }, { outcome: 'error', code: 'expired' }).pass).toBe(false);
  });

  it('splits an adapter command as a shell would, without running one', () => {
    expect(splitCommand(`python3 -m my_adapter --flag "two words" 'it''s' a\\ b`)).toEqual(['python3', '-m', 'my_adapter', '--flag', 'two words', 'its', 'a b']);
    expect(() => splitCommand('"unterminated')).toThrow(/quote/);
  });
});
