/**
 * Runs one case of `vectors/notifications.json` (format: docs/conformance.md,
 * "Notification vectors") through the TypeScript implementation. Used by the
 * test and by the generator's self-check.
 */
import { type Jwks, type NotificationEvent, ProvisioningError, createMemoryNotificationDedupStore, manualClock, verifyNotification } from '../../src/index.js';

/** The inputs of a notification case. */
export interface NotificationVectorInput {
  /** The compact JWS as delivered. */
  jws: string;
  /** The token service's public JWK set. */
  jwks: Jwks;
  /** The expected `iss` (token service id) and `aud` (the receiver's id). */
  issuer: string;
  audience: string;
  /** The receiver's clock, NumericDate. */
  now: number;
  maxAgeSeconds: number;
  /** Signed notifications the receiver verified before this one (at the same `now`), in order, with a fresh deduplication store. */
  presentedBefore: string[];
}

/** The expected outcome of a notification case. */
export type NotificationVectorExpected = { outcome: 'ok'; event: NotificationEvent; duplicate: boolean } | { outcome: 'error'; code: string };

/** One notification case. */
export interface NotificationVectorCase {
  id: string;
  title: string;
  description: string;
  input: NotificationVectorInput;
  expected: NotificationVectorExpected;
}

/** The notification vector file. */
export interface NotificationVectorFile {
  $comment: string;
  format: 'pushprov-notification-vectors';
  formatVersion: 1;
  protocolVersion: 1;
  generator: string;
  cases: NotificationVectorCase[];
}

/** Runs a case: what the implementation answers, in the shape of `expected`. */
export async function runNotificationVector(vector: NotificationVectorCase): Promise<NotificationVectorExpected> {
  const { input } = vector;
  const options = {
    jwks: input.jwks,
    issuer: input.issuer,
    audience: input.audience,
    maxAgeSeconds: input.maxAgeSeconds,
    clock: manualClock(input.now * 1000),
    seen: createMemoryNotificationDedupStore({ now: () => input.now * 1000 }),
  };
  try {
    for (const before of input.presentedBefore) await verifyNotification(before, options);
    const { event, duplicate } = await verifyNotification(input.jws, options);
    return { outcome: 'ok', event, duplicate };
  } catch (error) {
    if (error instanceof ProvisioningError) return { outcome: 'error', code: error.code };
    throw error;
  }
}
