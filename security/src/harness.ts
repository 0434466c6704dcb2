/**
 * A token service over real loopback HTTP with the SQLite store in a
 * temporary directory, its logs captured through the injectable logger.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEvent } from '@pushprov/token-service';
import { type RunningTokenServer, type StartTokenServerOptions, startTokenServer } from '@pushprov/token-service/server';
import type { Sandbox } from './sandbox.js';

/** A running server and what a test inspects around it. */
export interface Harness {
  url: string;
  dir: string;
  dbPath: string;
  server: RunningTokenServer;
  /** Every log event the server wrote, raw (before any masking a logger might do). */
  logs: LogEvent[];
  /** Stops the server (the database stays). */
  stop(): Promise<void>;
  /** Stops the server and starts a new one on the same database (a restart). */
  restart(): Promise<void>;
  /** Stops the server and removes the temporary directory. */
  dispose(): Promise<void>;
}

/** Options of {@link startHarness}: anything `startTokenServer` takes, except what the harness sets. */
export type HarnessOptions = Partial<Omit<StartTokenServerOptions, 'config' | 'dbPath' | 'store' | 'logger'>>;

/** Starts the sandbox's token service on 127.0.0.1 (a free port) with SQLite in a fresh temporary directory. */
export async function startHarness(sb: Sandbox, options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'pushprov-security-'));
  const dbPath = join(dir, 'tokens.db');
  const logs: LogEvent[] = [];
  const logger = { info: (e: LogEvent) => logs.push({ ...e }), error: (e: LogEvent) => logs.push({ ...e, level: 'error' }) };
  const start = () => startTokenServer({ clock: sb.clock, purgeIntervalMs: 0, host: '127.0.0.1', ...options, config: sb.config, dbPath, logger });
  let server = await start();
  let stopped = false;
  const harness: Harness = {
    url: server.url,
    dir,
    dbPath,
    server,
    logs,
    async stop() {
      if (!stopped) await server.close();
      stopped = true;
    },
    async restart() {
      await harness.stop();
      server = await start();
      stopped = false;
      harness.server = server;
      harness.url = server.url;
    },
    async dispose() {
      await harness.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
