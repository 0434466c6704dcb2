// A webhook receiver for the notification tests: a real HTTP server on
// 127.0.0.1 that mounts the protocol's notification handler (signature by
// kid from the token service's JWKS, typ, iat window, dedup by event id)
// behind a switch: answer 500 to the next n requests, or be down
// (connection refused) until `up()`.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { type Jwks, type NotificationEvent, createNotificationHandler } from '@pushprov/protocol';

/** A running receiver. */
export interface TestReceiver {
  /** The endpoint to configure. */
  url: string;
  /** Events processed (onEvent), in arrival order: each at most once. */
  readonly processed: NotificationEvent[];
  /** Notifications answered as duplicates (already processed). */
  readonly duplicates: number;
  /** Requests answered 500 on purpose. */
  readonly failed: number;
  /** Notifications the handler refused (bad signature, …). */
  readonly refused: number;
  /** Answers the next `n` requests with 500. */
  failNext(n: number): void;
  /** Holds every request from now on, unanswered, until `release()` (which answers them 503). */
  hang(): void;
  release(): void;
  /** Requests held right now. */
  readonly held: number;
  /** Verifies with these keys from now on (the service's JWKS, once it is known). */
  trust(jwks: Jwks): void;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a receiver for party `audience` of token service `issuer`. */
export async function startReceiver(audience: string, issuer: string): Promise<TestReceiver> {
  const processed: NotificationEvent[] = [];
  let duplicates = 0;
  let failed = 0;
  let refused = 0;
  let failNext = 0;
  let handler: ((request: Request) => Promise<Response>) | undefined;
  let hanging: Promise<void> | undefined;
  let releaseHanging: (() => void) | undefined;
  let held = 0;
  const listener = getRequestListener(async (request: Request) => {
    if (hanging) {
      held++;
      await hanging;
      held--;
      return new Response('released', { status: 503 });
    }
    if (failNext > 0 || !handler) {
      failNext = Math.max(0, failNext - 1);
      failed++;
      return new Response('not now', { status: 500 });
    }
    const response = await handler(request);
    if (response.status === 200 && ((await response.clone().json()) as { duplicate?: boolean }).duplicate === true) duplicates++;
    if (response.status === 400 || response.status === 401) refused++;
    return response;
  });
  let server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    releaseHanging?.();
    hanging = undefined;
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}/pushprov/events`,
    processed,
    get duplicates() {
      return duplicates;
    },
    get failed() {
      return failed;
    },
    get refused() {
      return refused;
    },
    failNext(n) {
      failNext = n;
    },
    hang() {
      hanging ??= new Promise<void>((resolve) => (releaseHanging = resolve));
    },
    release() {
      releaseHanging?.();
      hanging = undefined;
    },
    get held() {
      return held;
    },
    trust(jwks) {
      handler = createNotificationHandler({ jwks, issuer, audience, onEvent: (event) => void processed.push(event) });
    },
    down: close,
    async up() {
      server = createServer(listener);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    stop: close,
  };
}

/** Sequences of each token, in the order the receiver processed them. */
export function sequencesByToken(events: readonly NotificationEvent[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of events) out.set(e.tokenReferenceId, [...(out.get(e.tokenReferenceId) ?? []), e.sequence]);
  return out;
}

/** Waits (polling every 50 ms, at most `ms`) until `done()` holds. */
export async function waitUntil(done: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
