// Types of size-budget.mjs, for the benchmark (TypeScript).
export declare const BUDGET_BYTES: number;
export interface SizeEntry {
  id: string;
  name: string;
  entry: string;
  /** CI fails above this many gzipped bytes (the target, or a ratchet where the target is missed). */
  ceiling: number;
}
/** A typical app: several entries bundled together. Informative, no ceiling. */
export interface SizeApp {
  id: string;
  name: string;
  entries: string[];
}
export interface EntrySize {
  minified: number;
  gzipped: number;
}
/** A measured entry (with its budget and ceiling) or app (informative: neither). */
export type SizeRow = { id: string; name: string; entry: string } & EntrySize & ({ budget: number; ceiling: number } | { budget?: undefined; ceiling?: undefined });
export declare const ENTRIES: SizeEntry[];
export declare const APPS: SizeApp[];
export declare const FLOOR: { id: string; name: string; source: string };
export declare function measureEntry(entry: string): Promise<EntrySize>;
export declare function measureTogether(entries: string[]): Promise<EntrySize>;
export declare function measureAll(): Promise<SizeRow[]>;
export declare function measureFloor(): Promise<{ id: string; name: string } & EntrySize>;
