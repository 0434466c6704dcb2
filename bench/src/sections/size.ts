import { BUDGET_BYTES, measureAll, measureFloor } from '../../../scripts/size-budget.mjs';
import type { BenchRow } from '../lib/report.js';

/**
 * Section 7: bundle size, with `scripts/size-budget.mjs` (the CI budget):
 * each app entry bundled for the browser with everything it pulls in,
 * minified, gzipped. The floor is the jose code the wallet cannot do
 * without (verify + decrypt + key import), bundled the same way. Typical
 * apps (an entry with the subpaths it needs) are informative lines.
 */
export async function runSize(): Promise<BenchRow[]> {
  const floor = await measureFloor();
  const rows: BenchRow[] = [
    { id: 'size.floor', section: 'size', label: `${floor.name} (floor)`, value: floor.gzipped, unit: 'bytes', isFloor: true, extra: { minified: floor.minified } },
  ];
  for (const entry of await measureAll()) {
    if (entry.budget === undefined) {
      // A typical app (an entry with the subpaths it needs): informative, no budget.
      rows.push({
        id: `size.${entry.id}`,
        section: 'size',
        label: `${entry.name}, min + gz (typical app, no budget)`,
        value: entry.gzipped,
        unit: 'bytes',
        floor: 'size.floor',
        extra: { minified: entry.minified },
      });
      continue;
    }
    rows.push({
      id: `size.${entry.id}`,
      section: 'size',
      label: `${entry.name}, min + gz (budget ${BUDGET_BYTES / 1000} kB)`,
      value: entry.gzipped,
      unit: 'bytes',
      floor: 'size.floor',
      extra: { minified: entry.minified, budget: BUDGET_BYTES, withinBudget: entry.gzipped <= BUDGET_BYTES },
    });
  }
  return rows;
}
