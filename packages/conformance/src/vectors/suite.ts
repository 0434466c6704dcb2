/**
 * `pushprov-conformance vectors --adapter "CMD ARGS"`: every case of the
 * vector file through an implementation in any language, over the adapter
 * protocol (docs/conformance.md, "The adapter protocol"): one adapter
 * process for all cases, one JSON line per case each way, in order.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DEFAULT_TIMEOUT_MS } from '../lib/http.js';
import { jsonEqual, stableJson } from '../lib/check.js';
import { type CaseResult, DEFAULT_DOCS_BASE, type Report, makeReport } from '../report.js';
import { type Expected, VECTOR_KINDS, type VectorCase, loadVectors } from './load.js';

/** Options of {@link runVectorConformance}. */
export interface VectorRunOptions {
  /** The adapter command and its arguments (split as a shell would split words, quotes respected; no shell runs it). */
  adapter: string | string[];
  /** The kinds the implementation claims (default: every kind). The others are reported as not applicable. */
  kinds?: readonly string[];
  /** Timeout of each case, ms. Default 10 000. */
  timeoutMs?: number;
  /** Another vector file than the one @pushprov/protocol ships. */
  vectorsPath?: string;
  /** Working directory of the adapter. */
  cwd?: string;
  /** Environment of the adapter. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  docsBase?: string;
  filter?: (id: string) => boolean;
  onResult?: (result: CaseResult) => void;
}

/** Splits a command line into words: whitespace separates, single and double quotes group, backslash escapes (outside single quotes). */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (ch === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new TypeError('the adapter command has an unterminated quote');
  if (inWord) words.push(word);
  if (words.length === 0) throw new TypeError('the adapter command is empty');
  return words;
}

/**
 * Compares an answer with `expected` (docs/conformance.md, "A case"): the same
 * outcome; for `ok`, every member of `expected` equal (JSON equality, member
 * order ignored; the answer may carry more); for `error`, exactly the code.
 */
export function compareOutcome(expected: Expected, answer: Record<string, unknown>): { pass: boolean; expected: string; actual: string } {
  const show = (value: unknown) => {
    const text = stableJson(value);
    return text.length > 1500 ? `${text.slice(0, 1499)}…` : text;
  };
  if (expected.outcome === 'error') {
    const pass = answer.outcome === 'error' && answer.code === expected.code;
    return { pass, expected: `error ${expected.code}`, actual: answer.outcome === 'error' ? `error ${String(answer.code)}` : show(answer) };
  }
  if (answer.outcome !== 'ok') return { pass: false, expected: show(expected), actual: show(answer) };
  const differing = Object.keys(expected).filter((key) => !jsonEqual((expected as Record<string, unknown>)[key], answer[key]));
  if (differing.length === 0) return { pass: true, expected: '', actual: '' };
  const pick = (from: Record<string, unknown>) => Object.fromEntries(differing.map((k) => [k, from[k]]));
  return { pass: false, expected: `ok with ${show(pick(expected as Record<string, unknown>))}`, actual: `ok with ${show(pick(answer))}` };
}

/** One adapter process and its line reader. */
class AdapterProcess {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;
  private stderrTail = '';
  readonly exited: Promise<void>;

  constructor(argv: string[], options: { cwd?: string | undefined; env?: NodeJS.ProcessEnv | undefined }) {
    this.child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    this.child.stdin!.on('error', () => {
      // The adapter closed its input (it exited): the answer wait reports it.
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000)));
    const reader = createInterface({ input: this.child.stdout!, crlfDelay: Infinity });
    reader.on('line', (line) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.lines.push(line);
    });
    this.exited = new Promise((resolve) => {
      const done = () => {
        this.ended = true;
        if (this.waiting) {
          const resolve2 = this.waiting;
          this.waiting = undefined;
          resolve2(undefined);
        }
        resolve();
      };
      this.child.once('error', done);
      reader.once('close', done);
    });
  }

  get stderr(): string {
    return this.stderrTail.trim();
  }

  /** Writes a case and waits for its answer line (undefined: the adapter ended or the wait timed out). */
  async exchange(line: string, timeoutMs: number): Promise<{ line?: string; timedOut?: boolean; ended?: boolean }> {
    if (this.ended) return { ended: true };
    this.child.stdin!.write(`${line}\n`);
    const queued = this.lines.shift();
    if (queued !== undefined) return { line: queued };
    let timer: NodeJS.Timeout | undefined;
    const result = await new Promise<{ line?: string; timedOut?: boolean; ended?: boolean }>((resolve) => {
      this.waiting = (answer) => resolve(answer === undefined ? { ended: true } : { line: answer });
      timer = setTimeout(() => {
        this.waiting = undefined;
        resolve({ timedOut: true });
      }, timeoutMs);
    });
    clearTimeout(timer);
    return result;
  }

  /** Closes its input, then kills it by PID if it has not exited within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** Runs every case of the vector file through the adapter and returns the report. */
export async function runVectorConformance(options: VectorRunOptions): Promise<Report> {
  const started = Date.now();
  const argv = typeof options.adapter === 'string' ? splitCommand(options.adapter) : [...options.adapter];
  if (argv.length === 0) throw new TypeError('the adapter command is empty');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const kinds = new Set(options.kinds ?? VECTOR_KINDS);
  const cases = loadVectors(options.vectorsPath).cases.filter((c) => (options.filter ?? (() => true))(c.id));
  const results: CaseResult[] = [];
  const record = (result: CaseResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  let adapter: AdapterProcess | undefined;
  const start = () => (adapter ??= new AdapterProcess(argv, { cwd: options.cwd, env: options.env }));
  try {
    for (const vector of cases) {
      const base = { id: vector.id, title: vector.title };
      if (!kinds.has(vector.kind)) {
        record({ ...base, status: 'not_applicable', reason: `kind ${vector.kind} is not among the kinds the implementation claims (--kinds)`, durationMs: 0 });
        continue;
      }
      record(await runOne(start(), vector, timeoutMs, () => {
        // After a timeout, a crash or an answer out of step, the next case gets a fresh adapter.
        adapter?.kill();
        adapter = undefined;
      }));
    }
  } finally {
    await adapter?.stop();
  }
  return makeReport('vectors', argv.join(' '), started, results, options.docsBase ?? DEFAULT_DOCS_BASE);
}

async function runOne(adapter: AdapterProcess, vector: VectorCase, timeoutMs: number, discard: () => void): Promise<CaseResult> {
  const begun = performance.now();
  const base = { id: vector.id, title: vector.title };
  const code = vector.expected.outcome === 'error' ? vector.expected.code : undefined;
  const fail = (expected: string, actual: string): CaseResult => ({ ...base, status: 'failed', expected, actual, ...(code ? { code } : {}), durationMs: performance.now() - begun });
  const exchange = await adapter.exchange(JSON.stringify({ id: vector.id, kind: vector.kind, input: vector.input }), timeoutMs);
  if (exchange.timedOut) {
    discard();
    return fail(`an answer within ${timeoutMs} ms`, 'no answer (timed out); the adapter was restarted for the next case');
  }
  if (exchange.line === undefined) {
    discard();
    const stderr = adapter.stderr;
    return fail('an answer line', `the adapter exited before answering${stderr ? `; its standard error ends with: ${stderr.slice(-500)}` : ''}`);
  }
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(exchange.line) as Record<string, unknown>;
    if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) throw new TypeError('not an object');
  } catch {
    discard();
    return fail('one JSON object per line on standard output', `not JSON: ${JSON.stringify(exchange.line.slice(0, 300))}`);
  }
  if (answer.id !== vector.id) {
    discard();
    return fail(`the answer to ${vector.id} (with "id": "${vector.id}")`, `an answer with id ${JSON.stringify(answer.id)}`);
  }
  const { id: _id, ...outcome } = answer;
  if (outcome.outcome === 'unsupported') {
    return fail(`kind ${vector.kind} run (the implementation claims it; pass --kinds to narrow)`, `unsupported${typeof outcome.reason === 'string' ? `: ${outcome.reason}` : ''}`);
  }
  const compared = compareOutcome(vector.expected, outcome);
  if (compared.pass) return { ...base, status: 'passed', durationMs: performance.now() - begun };
  // A positive case refused: the troubleshooting entry of the code the implementation answered.
  const answered = code === undefined && outcome.outcome === 'error' && typeof outcome.code === 'string' ? { code: outcome.code } : {};
  return { ...fail(compared.expected, compared.actual), ...answered };
}
