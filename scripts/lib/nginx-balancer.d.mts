// Types of nginx-balancer.mjs (a real nginx in front of local HTTP servers).

export interface BalancerOptions {
  /** The instances: 'http://127.0.0.1:PORT' or 'host:port' (at least one). */
  upstreams: readonly string[];
  /** Port on 127.0.0.1 (default: a free one, picked again if taken before nginx binds it). */
  port?: number;
  /** Bound on the start, in ms (default 15 000). */
  startTimeoutMs?: number;
  /** nginx worker_connections (default 4096; each proxied request holds two). */
  workerConnections?: number;
  /** proxy_read_timeout and proxy_send_timeout in ms (default 60 000): an upstream silent that long answers 504. */
  readTimeoutMs?: number;
  /** Parent of the temp folder (default os.tmpdir()). */
  tmpDir?: string;
}

export interface Balancer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** PID of the nginx master. */
  readonly pid: number;
  /** The temp folder: nginx.conf, nginx.pid, access.log, error.log, temp paths. Removed by stop(). */
  readonly dir: string;
  /** Access log: one line a request with upstream=, upstream_status= and rid= (X-Request-Id of the answer). */
  readonly accessLog: string;
  readonly errorLog: string;
  /** The upstreams in force, as host:port. */
  readonly upstreams: string[];
  /** Rewrites the configuration and reloads (SIGHUP to the master); resolves once new connections use it and the old workers are gone (or after 6 s). */
  setUpstreams(list: readonly string[]): Promise<void>;
  /** Fast shutdown (SIGTERM, SIGKILL after 5 s); resolves when no nginx process of this balancer is left and its temp folder is removed. */
  stop(): Promise<void>;
}

/** Starts nginx on 127.0.0.1 balancing round robin over the upstreams; resolves once it answers. */
export declare function startBalancer(options: BalancerOptions): Promise<Balancer>;
