#!/usr/bin/env node
/**
 * `pushprov-conformance-adapter-js`: the reference adapter of
 * `pushprov-conformance vectors`, on @pushprov/protocol. It reads one case
 * per line on standard input (`{"id","kind","input"}`) and writes one answer
 * per line on standard output, in order (`{"id","outcome":"ok",…}`,
 * `{"id","outcome":"error","code"}` or `{"id","outcome":"unsupported"}`),
 * until standard input ends. See docs/conformance.md, "The adapter protocol".
 *
 * @packageDocumentation
 */
import { pathToFileURL } from 'node:url';
import { serveAdapter } from './vectors/serve-adapter.js';

export { serveAdapter };

// Run as a command (tsx or node on this file), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await serveAdapter(process.stdin, process.stdout);
}
