// Types of pg-cluster.mjs (throwaway PostgreSQL clusters for tests, the demo and the bench).

export interface PgClusterOptions {
  /** Start a throwaway cluster even when TEST_DATABASE_URL is set (tests that kill and restart their server). */
  local?: boolean;
  /** Port on 127.0.0.1 (default: a free one, picked again if taken before the server binds it). */
  port?: number;
  /** max_connections (default 200: three service instances with their pools fit). */
  maxConnections?: number;
  /** More postgresql.conf settings, e.g. `{ log_statement: 'all', synchronous_commit: false }`. */
  settings?: Record<string, string | number | boolean>;
  /** Bound on each start (initdb excluded), in ms (default 60 000). */
  startTimeoutMs?: number;
  /** Parent of the temp folder (default os.tmpdir()); as root the `postgres` user must reach it. */
  tmpDir?: string;
  /** Prefix of the names createDatabase() picks (default `pushprov_<8 hex>_`). */
  databasePrefix?: string;
}

interface PgServerBase {
  /** URL of the `postgres` database as a role that may CREATE DATABASE. */
  readonly adminUrl: string;
  readonly host: string;
  readonly port: number;
  /** Prefix of the names createDatabase() picks. */
  readonly databasePrefix: string;
  /** Creates a database (a unique name unless given: letters, digits, _) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Drops a database, closing its connections (`DROP DATABASE IF EXISTS … WITH (FORCE)`). */
  dropDatabase(name: string): Promise<void>;
  /** Fast shutdown (SIGINT, as `pg_ctl stop -m fast`); resolves once the postmaster has exited. */
  stop(): Promise<void>;
  /** SIGKILL the postmaster by PID, then the rest of its processes (a crash); resolves once all are gone. */
  kill(): Promise<void>;
  /** Starts again on the same port and data folder (no-op when running); resolves once it accepts connections. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Local: stop (killing if need be) and remove the temp folder. External: drop the databases named with databasePrefix. */
  destroy(): Promise<void>;
}

/** A cluster of our own in a temp folder. */
export interface LocalPgCluster extends PgServerBase {
  readonly external: false;
  readonly host: '127.0.0.1';
  /** The data folder (inside `dir`). */
  readonly dataDir: string;
  /** The temp folder: data folder, unix socket folder, server log. */
  readonly dir: string;
  /** The server's log file. */
  readonly logFile: string;
  /** PID of the postmaster last started (a stopped or killed cluster keeps the old one). */
  readonly pid: number;
}

/** The server of TEST_DATABASE_URL (or of connectPgServer): stop/kill/start/restart reject with "not available with TEST_DATABASE_URL". */
export interface ExternalPgServer extends PgServerBase {
  readonly external: true;
  readonly dataDir: undefined;
  readonly dir: undefined;
  readonly logFile: undefined;
  readonly pid: undefined;
}

export type PgServer = LocalPgCluster | ExternalPgServer;

/** Starts a throwaway cluster; with TEST_DATABASE_URL set (and no `local`), starts nothing and returns that server. */
export declare function startPgCluster(options: PgClusterOptions & { local: true }): Promise<LocalPgCluster>;
export declare function startPgCluster(options?: PgClusterOptions): Promise<PgServer>;

/** An existing server, to create and drop databases on; never started or stopped. */
export declare function connectPgServer(adminUrl: string, options?: { databasePrefix?: string }): ExternalPgServer;
