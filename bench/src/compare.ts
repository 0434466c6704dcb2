/**
 * Compares two reports of `pnpm bench`, line by line: the ratios to the
 * floor, their change, the CPU ratios, and each target in both runs.
 *
 * Usage (from the repository root):
 *   pnpm bench:compare -- quiet.json busy.json [--names quiet,busy]
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareReports, formatComparison } from './lib/compare.js';
import type { BenchReport } from './lib/report.js';

// pnpm passes the `--` through; paths are relative to where pnpm was run (INIT_CWD), not to bench/.
const { values, positionals } = parseArgs({ args: process.argv.slice(2).filter((arg) => arg !== '--'), allowPositionals: true, options: { names: { type: 'string' } } });
if (positionals.length !== 2) {
  process.stderr.write('usage: pnpm bench:compare -- A.json B.json [--names a,b]\n');
  process.exit(2);
}
const read = (path: string): BenchReport => {
  const report = JSON.parse(readFileSync(resolve(process.env.INIT_CWD ?? process.cwd(), path), 'utf8')) as BenchReport;
  if (report.schema !== 'pushprov-bench/1') throw new Error(`${path} is not a report of pnpm bench (schema ${String(report.schema)})`);
  return report;
};
const [pathA, pathB] = positionals as [string, string];
const [a, b] = [read(pathA), read(pathB)];
const [nameA, nameB] = values.names?.split(',') ?? [basename(pathA, '.json'), basename(pathB, '.json')];
const describe = (name: string, r: BenchReport) =>
  `${name}: ${r.mode} run of ${r.gitCommit} at ${r.startedAt}, ${r.machine.cpus} CPUs, load average ${r.machine.loadAverageBefore.join(' ')} -> ${r.machine.loadAverageAfter.join(' ')}`;
process.stdout.write(`${describe(nameA!, a)}\n${describe(nameB!, b)}\n\n${formatComparison(compareReports(a, b), { a: nameA!, b: nameB! })}\n`);
