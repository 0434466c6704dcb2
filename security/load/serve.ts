// The token service as a child process for the load test: the configuration
// file and the database path from the command line, 127.0.0.1 on a free
// port, and a logger that writes every event as a raw JSON line (no masking:
// the canary scan must see whatever the service logs). Prints a "listening"
// line with the URL; stops cleanly on SIGTERM.
//
// Fault injection for the crash test: with PUSHPROV_KILL_AFTER_COMMITS=N the
// process SIGKILLs itself right after its N-th successful commit, before the
// answer is written: the worst moment, a request stored but never
// acknowledged.
import { type TokenServiceStore, loadConfig, openSqliteStore } from '@pushprov/token-service';
import { startTokenServer } from '@pushprov/token-service/server';

const [configFile, dbPath] = process.argv.slice(2);
if (!configFile || !dbPath) {
  process.stderr.write('usage: serve.ts CONFIG DB\n');
  process.exit(2);
}
const write = (level: string, event: object) => process.stdout.write(`${JSON.stringify({ level, ...event })}\n`);
const killAfter = Number(process.env.PUSHPROV_KILL_AFTER_COMMITS ?? '0');
const sqlite = openSqliteStore(dbPath);
let commits = 0;
const store: TokenServiceStore = {
  ...sqlite,
  async commit(input) {
    const outcome = await sqlite.commit(input);
    if (outcome.ok && killAfter > 0 && ++commits === killAfter) process.kill(process.pid, 'SIGKILL');
    return outcome;
  },
};
const server = await startTokenServer({
  config: loadConfig(configFile),
  store,
  port: 0,
  host: '127.0.0.1',
  logger: { info: (event) => write('info', event), error: (event) => write('error', event) },
});
write('info', { msg: 'listening', url: server.url });
process.on('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
