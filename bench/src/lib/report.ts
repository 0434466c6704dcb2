import { round } from './stats.js';

/** The sections of a run, in print order. */
export const SECTIONS = ['floor', 'sdk', 'service', 'http', 'postgres', 'cold-start', 'growth', 'memory', 'size'] as const;
export type Section = (typeof SECTIONS)[number];

/** One line of the report. */
export interface BenchRow {
  /** Stable id, e.g. `http.sqlite-full.c64`. */
  id: string;
  section: Section;
  label: string;
  /** The main figure, in `unit`. */
  value: number;
  unit: 'ops/s' | 'ms' | 'bytes' | 'MB';
  concurrency?: number;
  /** Operations measured. */
  count?: number;
  p50Ms?: number;
  p99Ms?: number;
  peakRssMb?: number;
  errors?: number;
  /** The id of the floor row this line is compared with (measured in the same run). */
  floor?: string;
  /**
   * For throughput: the share of the floor reached, the median over rounds interleaved with the floor
   * (`extra.roundRatios`). For times and sizes: `value / floor value`, the multiple of the floor.
   */
  ratio?: number;
  note?: string;
  /** True for the floor lines (and baselines) others are compared with. */
  isFloor?: boolean;
  /** Section-specific figures. */
  extra?: Record<string, number | string | boolean | null>;
  /** Database round trips over the measured requests, counted in the server process(es) (PostgreSQL lines). */
  roundTrips?: RoundTrips;
}

/** Database round trips of a line, counted by the store's `onRoundTrip` in every server process, warm-up excluded. */
export interface RoundTrips {
  /** Requests measured (each one provisioning). */
  provisionings: number;
  /** Queries sent to the database. */
  total: number;
  /** total / provisionings. */
  perProvisioning: number;
  /** `commit` queries / provisionings: each commit is one database transaction (one WAL flush). */
  commitsPerProvisioning: number;
  /** Queries per provisioning, by store operation (`begin`, `commit`, …). */
  byOperation: Record<string, number>;
}

/** A target of the issue, checked against this run's figures. */
export interface TargetCheck {
  name: string;
  measured: number;
  target: string;
  met: boolean;
  note?: string;
}

/** The JSON written to `bench/results/latest.json`. */
export interface BenchReport {
  schema: 'pushprov-bench/1';
  mode: 'quick' | 'full';
  /** The commit measured (`git rev-parse --short HEAD`; the work tree may differ). */
  gitCommit: string;
  startedAt: string;
  durationSeconds: number;
  machine: {
    node: string;
    platform: string;
    cpus: number;
    /** The libuv thread pool size of every process of the run (UV_THREADPOOL_SIZE). */
    threadpoolSize: number;
    /** Whether the workspace packages ran from their built `dist` (as users run them) or from source. */
    packagesFrom: 'dist' | 'source';
    cpuModel: string;
    totalMemoryMb: number;
    loadAverageBefore: number[];
    loadAverageAfter: number[];
  };
  rows: BenchRow[];
  memory: { samples: MemorySample[] };
  targets: TargetCheck[];
  command: string;
}

/** Memory after a forced GC, every N requests. */
export interface MemorySample {
  requests: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

/** Fills in `ratio` from `floor` for every row that has no ratio yet (paired rows have theirs). */
export function applyFloors(rows: BenchRow[]): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const row of rows) {
    if (row.floor === undefined || row.ratio !== undefined) continue;
    const floor = byId.get(row.floor);
    if (floor && floor.value > 0 && Number.isFinite(row.value)) row.ratio = round(row.value / floor.value, 3);
  }
}

const fmtValue = (r: BenchRow): string => {
  if (!Number.isFinite(r.value)) return 'n/a';
  switch (r.unit) {
    case 'ops/s':
      return `${r.value.toFixed(0)} /s`;
    case 'ms':
      return `${r.value.toFixed(1)} ms`;
    case 'bytes':
      return `${(r.value / 1000).toFixed(2)} kB`;
    case 'MB':
      return `${r.value.toFixed(1)} MB`;
  }
};

/** A number for a table cell: empty when missing or not finite. */
export const fmt = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits));

/** A plain-text table: a header, a rule, the rows; the first column left-aligned, the others right-aligned. */
export function formatColumns(header: string[], body: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/** The report as a plain-text table. */
export function formatTable(rows: BenchRow[]): string {
  const header = ['line', 'value', 'p50 ms', 'p99 ms', 'peak RSS', 'CPU ms/op', 'main ms/op', 'ratio', 'CPU ratio', 'vs floor'];
  const body: string[][] = [];
  for (const section of SECTIONS) {
    const inSection = rows.filter((r) => r.section === section);
    if (inSection.length === 0) continue;
    body.push([`-- ${section}`, ...header.slice(1).map(() => '')]);
    for (const r of inSection) {
      body.push([
        `${r.label}${r.errors ? ` [${r.errors} errors]` : ''}`,
        fmtValue(r),
        fmt(r.p50Ms),
        fmt(r.p99Ms),
        r.peakRssMb === undefined ? '' : `${r.peakRssMb.toFixed(0)} MB`,
        typeof r.extra?.cpuMsPerOp === 'number' ? r.extra.cpuMsPerOp.toFixed(3) : '',
        typeof r.extra?.mainThreadCpuMsPerOp === 'number' ? r.extra.mainThreadCpuMsPerOp.toFixed(3) : '',
        r.ratio === undefined ? (r.isFloor ? '(floor)' : '') : r.ratio.toFixed(2),
        typeof r.extra?.cpuRatio === 'number' ? r.extra.cpuRatio.toFixed(2) : '',
        r.floor ?? '',
      ]);
    }
  }
  return formatColumns(header, body).join('\n');
}

/** The lines with database round trips, as a plain-text table: per provisioning, in all and by operation, and the other processes' CPU. */
export function formatRoundTrips(rows: BenchRow[]): string | undefined {
  const withTrips = rows.filter((r) => r.roundTrips !== undefined);
  if (withTrips.length === 0) return undefined;
  const cpu = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : '');
  const header = ['line', 'round trips', 'commits', 'by operation', 'db CPU ms/op', 'nginx CPU ms/op', 'load gen ms/op'];
  const body = withTrips.map((r) => {
    const t = r.roundTrips!;
    return [
      r.label,
      t.perProvisioning.toFixed(2),
      t.commitsPerProvisioning.toFixed(2),
      Object.entries(t.byOperation)
        .map(([operation, n]) => `${operation} ${n.toFixed(2)}`)
        .join(', '),
      cpu(r.extra?.databaseCpuMsPerOp),
      cpu(r.extra?.balancerCpuMsPerOp),
      cpu(r.extra?.loadGeneratorCpuMsPerOp),
    ];
  });
  return formatColumns(header, body).join('\n');
}

/** The targets as text lines. */
export function formatTargets(targets: TargetCheck[]): string {
  return targets.map((t) => `${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured} (target ${t.target})${t.note ? ` — ${t.note}` : ''}`).join('\n');
}
