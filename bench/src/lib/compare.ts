import { type BenchReport, type BenchRow, fmt, formatColumns } from './report.js';
import { round } from './stats.js';

/** One line of two runs side by side. */
export interface ComparedLine {
  id: string;
  label: string;
  /** Ratio to the floor (throughput lines) or multiple of it (times, sizes), in each run. */
  a?: number;
  b?: number;
  /** b - a. */
  delta?: number;
  /** The floor's CPU per operation over the line's, in each run: the figure other load moves least. */
  cpuA?: number;
  cpuB?: number;
}

/** A target of the issue in each run. */
export interface ComparedTarget {
  name: string;
  a?: { measured: number; met: boolean };
  b?: { measured: number; met: boolean };
}

export interface Comparison {
  lines: ComparedLine[];
  targets: ComparedTarget[];
  /** Lines present in one run only (e.g. a run with `--only`). */
  onlyInA: string[];
  onlyInB: string[];
}

const cpuRatio = (row: BenchRow | undefined): number | undefined => (typeof row?.extra?.cpuRatio === 'number' ? row.extra.cpuRatio : undefined);

/**
 * Puts two reports of `pnpm bench` side by side, line by line (matched by
 * id), for instance a run on a quiet machine and one on a busy machine: the
 * ratios to the floor are what should hold, since each line is measured in
 * rounds interleaved with its floor.
 */
export function compareReports(a: BenchReport, b: BenchReport): Comparison {
  const inB = new Map(b.rows.map((r) => [r.id, r]));
  const inA = new Set(a.rows.map((r) => r.id));
  const lines: ComparedLine[] = [];
  for (const rowA of a.rows) {
    const rowB = inB.get(rowA.id);
    if (!rowB || (rowA.ratio === undefined && rowB.ratio === undefined)) continue;
    const line: ComparedLine = { id: rowA.id, label: rowA.label };
    if (rowA.ratio !== undefined) line.a = rowA.ratio;
    if (rowB.ratio !== undefined) line.b = rowB.ratio;
    if (line.a !== undefined && line.b !== undefined) line.delta = round(line.b - line.a, 3);
    const [cpuA, cpuB] = [cpuRatio(rowA), cpuRatio(rowB)];
    if (cpuA !== undefined) line.cpuA = cpuA;
    if (cpuB !== undefined) line.cpuB = cpuB;
    lines.push(line);
  }
  const targetsB = new Map(b.targets.map((t) => [t.name, t]));
  const targets: ComparedTarget[] = a.targets.map((t) => {
    const other = targetsB.get(t.name);
    return { name: t.name, a: { measured: t.measured, met: t.met }, ...(other && { b: { measured: other.measured, met: other.met } }) };
  });
  for (const t of b.targets) if (!a.targets.some((x) => x.name === t.name)) targets.push({ name: t.name, b: { measured: t.measured, met: t.met } });
  return {
    lines,
    targets,
    onlyInA: a.rows.filter((r) => !inB.has(r.id)).map((r) => r.id),
    onlyInB: b.rows.filter((r) => !inA.has(r.id)).map((r) => r.id),
  };
}

const verdict = (t?: { measured: number; met: boolean }) => (t === undefined ? '' : `${t.met ? 'met' : 'MISSED'} ${t.measured}`);

/** The comparison as plain text: a table of lines, then the targets. */
export function formatComparison(c: Comparison, names: { a: string; b: string }): string {
  const header = ['line', `ratio ${names.a}`, `ratio ${names.b}`, 'change', `CPU ratio ${names.a}`, `CPU ratio ${names.b}`];
  const body = c.lines.map((l) => [l.label, fmt(l.a, 3), fmt(l.b, 3), l.delta === undefined ? '' : `${l.delta >= 0 ? '+' : ''}${l.delta.toFixed(3)}`, fmt(l.cpuA, 3), fmt(l.cpuB, 3)]);
  const out = [...formatColumns(header, body).map((l) => l.trimEnd()), '', `Targets (${names.a} | ${names.b})`];
  for (const t of c.targets) out.push(`${verdict(t.a).padEnd(16)} | ${verdict(t.b).padEnd(16)}  ${t.name}`);
  if (c.onlyInA.length > 0) out.push('', `only in ${names.a}: ${c.onlyInA.join(', ')}`);
  if (c.onlyInB.length > 0) out.push('', `only in ${names.b}: ${c.onlyInB.join(', ')}`);
  return out.join('\n');
}
