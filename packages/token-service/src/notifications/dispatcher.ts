// The notification dispatcher (spec section 14). Every instance runs one:
// it claims due deliveries from the store with a lease, signs a fresh
// notification for each attempt, POSTs it to the receiver's endpoint, and
// records the outcome. The store decides who sends what (leases, order per
// token), so any number of instances may run on one store.
import { type Clock, type RandomSource, createId, secureRandom, systemClock } from '@pushprov/protocol';
import type { NotificationSettings } from '../config/parse-config.js';
import type { Logger } from '../log/logger.js';
import type { ClaimedDelivery, DeliveryStore, LifecycleEventBody } from '../store/delivery-types.js';
import { nextAttemptAt } from './backoff.js';
import { type NotificationFetch, postNotification } from './post-notification.js';
import { parseReceiver } from './receivers.js';

/** Signs one notification of `event` for the receiving party `audience` (a fresh JWS each call). */
export type NotificationSigner = (event: LifecycleEventBody, audience: string) => Promise<string>;

/** What the dispatcher reads from the configuration in force at each poll (a reload changes it). */
export interface DispatchContext {
  settings: NotificationSettings;
  /** The endpoint of a receiver (`issuer:<id>`, `wallet:<id>`), or undefined when it has none. */
  endpointOf(receiver: string): string | undefined;
  /** Signs a notification; undefined when no signing key is configured (a delivery with an endpoint then waits). */
  sign: NotificationSigner | undefined;
}

/** The outcome of one attempt, for metrics. */
export type DeliveryAttemptOutcome = 'delivered' | 'retry' | 'dead';

/** Options of {@link createNotificationDispatcher}. */
export interface NotificationDispatcherOptions {
  deliveries: DeliveryStore;
  /** The configuration in force (called at each poll and attempt). */
  context: () => DispatchContext;
  clock?: Clock | undefined;
  random?: RandomSource | undefined;
  /** This instance's lease owner id. Default: a fresh random id. */
  owner?: string | undefined;
  fetch?: NotificationFetch | undefined;
  logger?: Logger | undefined;
  /** Called after each attempt. */
  onAttempt?: ((outcome: DeliveryAttemptOutcome, seconds: number) => void) | undefined;
}

/** A running dispatcher. */
export interface NotificationDispatcher {
  /** Its lease owner id. */
  readonly owner: string;
  /** Starts polling (every `pollIntervalMs`; at once again after a full batch). */
  start(): void;
  /** One poll: claims due deliveries and attempts each; resolves with how many were claimed. */
  runOnce(): Promise<number>;
  /** Stops polling, aborts attempts in flight (each is recorded, due again at once) and waits for them. */
  stop(): Promise<void>;
}

/**
 * Creates the dispatcher of one instance. For each claimed delivery: no
 * endpoint configured for its receiver → `dead` with `no endpoint`;
 * otherwise a fresh JWS (`sign`), a POST bounded by `timeoutMs`, then
 * `complete` on 2xx, else `fail` with the next attempt after exponential
 * backoff with full jitter (`retry`), or `dead` once `giveUpAfterSeconds`
 * have passed since the first attempt.
 *
 * @example
 * ```ts
 * const dispatcher = createNotificationDispatcher({ deliveries: store.deliveries, context: () => ({ settings, endpointOf, sign }) });
 * dispatcher.start();
 * await dispatcher.stop();
 * ```
 */
export function createNotificationDispatcher(options: NotificationDispatcherOptions): NotificationDispatcher {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? secureRandom;
  const owner = options.owner ?? createId('dsp', random);
  const { deliveries, logger } = options;
  const stopping = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = false;
  let running: Promise<number> | undefined;

  const record = async (d: ClaimedDelivery, nextAt: number | null, error: string): Promise<void> => {
    const applied = await deliveries.fail({ eventId: d.eventId, receiver: d.receiver, owner, nextAttemptAt: nextAt, error });
    // Not applied: the lease ran out and another instance took the delivery over; its outcome counts.
    // A party without an endpoint reads the feed instead: its dead letters are expected, not an error.
    if (applied && nextAt === null) {
      const line = { msg: 'notification dead-lettered', eventId: d.eventId, receiver: d.receiver, attempts: d.attempts, error };
      if (error === 'no endpoint') logger?.info(line);
      else logger?.error(line);
    }
  };

  const attempt = async (d: ClaimedDelivery, context: DispatchContext): Promise<void> => {
    const startedAt = performance.now();
    const done = (outcome: DeliveryAttemptOutcome) => options.onAttempt?.(outcome, (performance.now() - startedAt) / 1000);
    const party = parseReceiver(d.receiver);
    const endpoint = party === undefined ? undefined : context.endpointOf(d.receiver);
    if (party === undefined || endpoint === undefined) {
      await record(d, null, 'no endpoint');
      done('dead');
      return;
    }
    const retryAt = () => nextAttemptAt({ attempts: d.attempts, firstAttemptAt: d.firstAttemptAt, nowMs: clock.now() }, context.settings.retry, random);
    let jws: string;
    try {
      if (!context.sign) throw new Error('no signing key');
      jws = await context.sign(d.event, party.id);
    } catch {
      const next = retryAt();
      await record(d, next, 'signing failed');
      done(next === null ? 'dead' : 'retry');
      return;
    }
    const outcome = await postNotification({ endpoint, jws, eventId: d.eventId, timeoutMs: context.settings.timeoutMs, fetch: options.fetch, signal: stopping.signal });
    if (outcome.ok) {
      await deliveries.complete({ eventId: d.eventId, receiver: d.receiver, owner, nowMs: clock.now() });
      done('delivered');
      return;
    }
    if (stopping.signal.aborted) {
      // Shutting down: due again at once, for another instance (or this one's next start).
      await record(d, clock.now(), 'aborted');
      done('retry');
      return;
    }
    const next = retryAt();
    await record(d, next, outcome.error);
    logger?.info({ msg: 'notification attempt failed', eventId: d.eventId, receiver: d.receiver, attempts: d.attempts, error: outcome.error });
    done(next === null ? 'dead' : 'retry');
  };

  const poll = async (): Promise<number> => {
    if (stopping.signal.aborted) return 0;
    const context = options.context();
    const batch = await deliveries.claim({ owner, nowMs: clock.now(), leaseMs: context.settings.leaseMs, limit: context.settings.batchSize });
    await Promise.all(
      batch.map((d) =>
        attempt(d, context).catch(() => {
          // The store did not answer: the lease runs out and the delivery is claimed again.
          logger?.error({ msg: 'notification outcome not recorded', eventId: d.eventId, receiver: d.receiver, code: 'store_unavailable' });
        }),
      ),
    );
    return batch.length;
  };

  const runOnce = (): Promise<number> => {
    const run = (running ?? Promise.resolve(0)).catch(() => 0).then(poll);
    running = run;
    return run;
  };

  const loop = async (): Promise<void> => {
    timer = undefined;
    let claimed = 0;
    try {
      claimed = await runOnce();
    } catch {
      logger?.error({ msg: 'notification claim failed', code: 'store_unavailable' });
    }
    if (stopping.signal.aborted) return;
    const { pollIntervalMs, batchSize } = options.context().settings;
    timer = setTimeout(() => void loop(), claimed >= batchSize ? 0 : pollIntervalMs);
    timer.unref();
  };

  return {
    owner,
    start() {
      if (started || stopping.signal.aborted) return;
      started = true;
      timer = setTimeout(() => void loop(), 0);
      timer.unref();
    },
    runOnce,
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
