#!/usr/bin/env node
// The `token-service` command. A committed launcher, so package managers can
// link the bin before the package is built; the CLI itself is in dist/cli.js.
import '../dist/cli.js';
