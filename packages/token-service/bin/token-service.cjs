#!/usr/bin/env node
'use strict';
// The `token-service` command. A committed launcher, so package managers can
// link the bin before the package is built; the CLI itself is in dist/cli.js.
// It is CommonJS so that it runs before anything touches the libuv thread
// pool, whose size it defaults (see threadpool.cjs).
const { availableParallelism } = require('node:os');
const { applyThreadpoolDefault } = require('./threadpool.cjs');

applyThreadpoolDefault(process.env, availableParallelism());
import('../dist/cli.js');
