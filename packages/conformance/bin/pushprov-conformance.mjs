#!/usr/bin/env node
// The `pushprov-conformance` command. A committed launcher, so package
// managers can link the bin before the package is built; the CLI itself is
// in dist/cli.js.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
