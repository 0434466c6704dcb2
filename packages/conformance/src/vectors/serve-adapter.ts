/**
 * The adapter protocol's serving side, as the reference adapter runs it:
 * one case per input line, one answer per output line, in order.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { runVectorCase } from './run-vector.js';

/** Serves the adapter protocol on `input` / `output` until `input` ends. */
export async function serveAdapter(input: Readable, output: Writable): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let id: unknown;
    let answer: Record<string, unknown>;
    try {
      const parsed = JSON.parse(line) as { id?: unknown; kind?: unknown; input?: unknown };
      id = parsed.id;
      answer = await runVectorCase(String(parsed.kind), (parsed.input ?? {}) as Record<string, unknown>);
    } catch (error) {
      // Not a protocol error: a bug, reported as such (the runner counts it as a failure).
      answer = { outcome: 'crashed', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    const text = `${JSON.stringify({ id, ...answer })}\n`;
    if (!output.write(text)) await new Promise((resolve) => output.once('drain', resolve));
  }
}
