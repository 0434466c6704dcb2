/**
 * Results of a run, and how they are written: a summary table for a
 * terminal, JUnit XML and JSON for CI.
 */
import { isErrorCode } from '@pushprov/protocol';

/** The suites of the runner. */
export type SuiteName = 'token-service' | 'issuer-backend' | 'vectors';

/** What happened to one case. */
export type CaseStatus = 'passed' | 'failed' | 'not_applicable';

/** One case's result. */
export interface CaseResult {
  /** Stable id: a vector's id, or the runner's own (`ts-…`, `ib-…`). */
  id: string;
  title: string;
  status: CaseStatus;
  /** For `failed`: what the case expected, in words or JSON. */
  expected?: string;
  /** For `failed`: what came back instead. */
  actual?: string;
  /** The error code the failure is about (the expected one when the case expected an error), for the troubleshooting link. */
  code?: string;
  /** For `failed`: `docs/troubleshooting.md#<code>` (under the docs base). */
  troubleshooting?: string;
  /** For `not_applicable`: why the case cannot be run against this target. */
  reason?: string;
  durationMs: number;
}

/** A finished run of one suite. */
export interface Report {
  format: 'pushprov-conformance-report';
  formatVersion: 1;
  suite: SuiteName;
  /** What was tested: a base URL, an endpoint or an adapter command. */
  target: string;
  startedAt: string;
  durationMs: number;
  results: CaseResult[];
  summary: { total: number; passed: number; failed: number; notApplicable: number };
  /** True when every applicable case passed (the exit status is 0 exactly then). */
  ok: boolean;
}

/** Where troubleshooting links point by default. */
export const DEFAULT_DOCS_BASE = 'docs/troubleshooting.md';

/** The troubleshooting entry of an error code, or of the page when the code is not in the catalog. */
export function troubleshootingLink(code: string | undefined, docsBase: string = DEFAULT_DOCS_BASE): string {
  return code !== undefined && isErrorCode(code) ? `${docsBase}#${code}` : docsBase;
}

/** Builds a report from results. */
export function makeReport(suite: SuiteName, target: string, startedAtMs: number, results: CaseResult[], docsBase: string = DEFAULT_DOCS_BASE): Report {
  const withLinks = results.map((r) => (r.status === 'failed' ? { ...r, troubleshooting: troubleshootingLink(r.code, docsBase) } : r));
  const passed = withLinks.filter((r) => r.status === 'passed').length;
  const failed = withLinks.filter((r) => r.status === 'failed').length;
  const notApplicable = withLinks.filter((r) => r.status === 'not_applicable').length;
  return {
    format: 'pushprov-conformance-report',
    formatVersion: 1,
    suite,
    target,
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: Math.max(0, Date.now() - startedAtMs),
    results: withLinks,
    summary: { total: withLinks.length, passed, failed, notApplicable },
    ok: failed === 0 && passed > 0,
  };
}

const MARK: Record<CaseStatus, string> = { passed: 'pass', failed: 'FAIL', not_applicable: 'n/a' };

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The summary table (plain text, one line per case, then the failures in full). */
export function formatTable(report: Report): string {
  const idWidth = Math.min(48, Math.max(4, ...report.results.map((r) => r.id.length)));
  const lines = [`pushprov conformance: ${report.suite} — ${report.target}`, '', `${'case'.padEnd(idWidth)}  result  ms     title`];
  lines.push(`${'-'.repeat(idWidth)}  ------  -----  ${'-'.repeat(30)}`);
  for (const r of report.results) {
    const note = r.status === 'not_applicable' && r.reason ? ` (not applicable: ${clip(r.reason, 100)})` : '';
    lines.push(`${clip(r.id, idWidth).padEnd(idWidth)}  ${MARK[r.status].padEnd(6)}  ${String(Math.round(r.durationMs)).padStart(5)}  ${clip(r.title, 80)}${note}`);
  }
  const failures = report.results.filter((r) => r.status === 'failed');
  if (failures.length > 0) {
    lines.push('', 'Failures:');
    for (const r of failures) {
      lines.push('', `✗ ${r.id}: ${r.title}`, `    expected: ${clip(r.expected ?? '', 2000)}`, `    actual:   ${clip(r.actual ?? '', 2000)}`, `    see:      ${r.troubleshooting ?? DEFAULT_DOCS_BASE}`);
    }
  }
  const { total, passed, failed, notApplicable } = report.summary;
  lines.push('', `${total} cases: ${passed} passed, ${failed} failed, ${notApplicable} not applicable — ${report.ok ? 'CONFORMANT' : 'NOT CONFORMANT'}`, '');
  return lines.join('\n');
}

// XML 1.0 allows tab, newline, carriage return and U+0020 up; everything else is dropped.
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const xml = (text: string) =>
  text.replace(XML_INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** JUnit XML: one test suite, one test case per case; failures carry expected, actual and the troubleshooting link; not applicable cases are `skipped` with the reason. */
export function formatJunit(report: Report): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const { total, failed, notApplicable } = report.summary;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pushprov-conformance" tests="${total}" failures="${failed}" skipped="${notApplicable}" time="${seconds(report.durationMs)}">`,
    `  <testsuite name="${xml(`pushprov-conformance.${report.suite}`)}" tests="${total}" failures="${failed}" errors="0" skipped="${notApplicable}" timestamp="${xml(report.startedAt)}" time="${seconds(report.durationMs)}">`,
    `    <properties><property name="target" value="${xml(report.target)}"/></properties>`,
  ];
  for (const r of report.results) {
    const open = `    <testcase classname="${xml(`pushprov-conformance.${report.suite}`)}" name="${xml(`${r.id}: ${r.title}`)}" time="${seconds(r.durationMs)}"`;
    if (r.status === 'passed') out.push(`${open}/>`);
    else if (r.status === 'not_applicable') out.push(`${open}>`, `      <skipped message="${xml(`not applicable: ${r.reason ?? ''}`)}"/>`, '    </testcase>');
    else {
      const message = `expected ${r.expected ?? ''}; got ${r.actual ?? ''}`;
      out.push(
        `${open}>`,
        `      <failure message="${xml(clip(message, 1000))}" type="${xml(r.code ?? 'nonconformance')}">${xml(`expected: ${r.expected ?? ''}\nactual: ${r.actual ?? ''}\nsee: ${r.troubleshooting ?? DEFAULT_DOCS_BASE}`)}</failure>`,
        '    </testcase>',
      );
    }
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}

/** The report as JSON text. */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
