// Types of size-budget.mjs, for the benchmark (TypeScript).
export declare const BUDGET_BYTES: number;
export interface SizeEntry {
  id: string;
  name: string;
  entry: string;
  /** CI fails above this many gzipped bytes (the target, or a ratchet where the target is missed). */
  ceiling: number;
}
export interface EntrySize {
  minified: number;
  gzipped: number;
}
export declare const ENTRIES: SizeEntry[];
export declare const FLOOR: { id: string; name: string; source: string };
export declare function measureEntry(entry: string): Promise<EntrySize>;
export declare function measureAll(): Promise<(SizeEntry & EntrySize & { budget: number })[]>;
export declare function measureFloor(): Promise<{ id: string; name: string } & EntrySize>;
