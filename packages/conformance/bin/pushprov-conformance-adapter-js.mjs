#!/usr/bin/env node
// The reference adapter of `pushprov-conformance vectors`: runs each case
// through @pushprov/protocol (see docs/conformance.md, "The adapter protocol").
import { serveAdapter } from '../dist/adapter-js.js';

await serveAdapter(process.stdin, process.stdout);
