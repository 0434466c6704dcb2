/**
 * Generates `packages/protocol/vectors/notifications.json`, the vectors of
 * the signed notification (spec sections 4.20, 5.7 and 13; format:
 * docs/conformance.md, "Notification vectors").
 *
 *   npx tsx packages/protocol/scripts/generate-notification-vectors.ts [--check]
 *
 * The committed JSON is the source of truth: regenerating makes new keys and
 * new signatures (ECDSA signs with fresh randomness). Each case's expected
 * outcome is written here by hand, then checked against the TypeScript
 * implementation before the file is written; `--check` runs the self-check
 * without writing. Times are in June 2099, so no case expires with the wall clock.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOTIFICATION_JWS_TYP, type NotificationEvent, generateSigningKey, manualClock, signNotification, toBase64Url } from '../src/index.js';
import { b64uJson, craftJws } from './lib/jose-craft.js';
import { type NotificationVectorCase, type NotificationVectorFile, runNotificationVector } from './lib/run-notification-vector.js';

const NOW = Date.UTC(2099, 5, 15, 12, 0, 0) / 1000;
const ISSUER = 'token-service';
const AUDIENCE = 'bank-a';

async function main(): Promise<void> {
  const service = await generateSigningKey({ kid: 'ts-sig-2099-06' });
  const impostor = await generateSigningKey({ kid: 'ts-sig-2099-06' });
  const ed = await generateSigningKey({ alg: 'EdDSA', kid: 'ts-ed-2099-06' });
  const jwks = { keys: [service.publicJwk, ed.publicJwk] };
  const event: NotificationEvent = {
    eventId: toBase64Url(new Uint8Array(16).fill(0x2a)),
    type: 'token.suspended',
    tokenReferenceId: 'tok_2099_0001',
    issuerId: AUDIENCE,
    walletProviderId: 'wallet-co',
    status: 'suspended',
    previousStatus: 'active',
    reason: 'card_lost',
    actor: 'cardholder',
    occurredAt: NOW - 2,
    sequence: 3,
  };
  const sign = (at: number, key = service.privateJwk, audience = AUDIENCE, e = event) =>
    signNotification(e, { key, issuer: ISSUER, audience, clock: manualClock(at * 1000) });
  const payload = (at: number) => JSON.stringify({ iss: ISSUER, aud: AUDIENCE, iat: at, jti: event.eventId, event });
  const valid = await sign(NOW - 1);
  const [h, , s] = valid.split('.');
  const base = { jwks, issuer: ISSUER, audience: AUDIENCE, now: NOW, maxAgeSeconds: 300, presentedBefore: [] as string[] };
  const ok = { outcome: 'ok' as const, event, duplicate: false };
  const error = (code: string) => ({ outcome: 'error' as const, code });

  const cases: NotificationVectorCase[] = [
    { id: 'ntf-valid', title: 'A valid notification', description: 'token.suspended signed ES256 by the token service key, iat one second before now, for bank-a.', input: { ...base, jws: valid }, expected: ok },
    {
      id: 'ntf-valid-edge-of-window',
      title: 'A notification signed exactly maxAgeSeconds ago',
      description: 'iat = now - 300: the oldest iat the window accepts.',
      input: { ...base, jws: await sign(NOW - 300) },
      expected: ok,
    },
    {
      id: 'ntf-duplicate',
      title: 'A redelivery of an event already processed',
      description: 'The receiver verified a JWS of this event (iat now - 60); the token service signed it again for the next attempt (iat now - 1): same eventId, fresh JWS. Verified, reported as a duplicate: answer 2xx, do not process again.',
      input: { ...base, jws: valid, presentedBefore: [await sign(NOW - 60)] },
      expected: { ...ok, duplicate: true },
    },
    {
      id: 'ntf-forged-signature',
      title: 'A notification signed by another key with the same kid',
      description: 'An impostor key pair whose kid equals the token service key: the signature does not verify with the published key.',
      input: { ...base, jws: await sign(NOW - 1, impostor.privateJwk) },
      expected: error('signature_invalid'),
    },
    {
      id: 'ntf-altered-payload',
      title: 'A notification whose payload was changed after signing',
      description: 'The valid JWS with its payload segment replaced by the same claims with status "active": the signature no longer covers it.',
      input: { ...base, jws: `${h}.${b64uJson({ iss: ISSUER, aud: AUDIENCE, iat: NOW - 1, jti: event.eventId, event: { ...event, status: 'active' } })}.${s}` },
      expected: error('signature_invalid'),
    },
    {
      id: 'ntf-replayed',
      title: 'The same signed notification presented twice',
      description: 'presentedBefore holds this very JWS: presented again (by anyone), it is a replay. The token service never sends one JWS twice.',
      input: { ...base, jws: valid, presentedBefore: [valid] },
      expected: error('replayed'),
    },
    {
      id: 'ntf-expired',
      title: 'A notification older than the window',
      description: 'iat = now - 301 with maxAgeSeconds 300.',
      input: { ...base, jws: await sign(NOW - 301) },
      expected: error('expired'),
    },
    {
      id: 'ntf-not-yet-valid',
      title: 'A notification signed in the future',
      description: 'iat = now + 61: more than the 60 seconds of clock skew ahead.',
      input: { ...base, jws: await sign(NOW + 61) },
      expected: error('not_yet_valid'),
    },
    {
      id: 'ntf-unknown-kid',
      title: 'A notification whose kid is not in the JWK set',
      description: 'Signed by the token service key, header kid "ts-sig-retired".',
      input: { ...base, jws: await craftJws({ header: { alg: 'ES256', kid: 'ts-sig-retired', typ: NOTIFICATION_JWS_TYP }, payload: payload(NOW - 1), key: service.privateJwk }) },
      expected: error('unknown_key'),
    },
    {
      id: 'ntf-wrong-aud',
      title: 'A notification meant for another receiver',
      description: 'A valid notification signed for wallet-co, presented to bank-a.',
      input: { ...base, jws: await sign(NOW - 1, service.privateJwk, 'wallet-co') },
      expected: error('audience_mismatch'),
    },
    {
      id: 'ntf-wrong-typ',
      title: 'A token service JWS of another type',
      description: 'The notification claims signed by the token service key with typ "JWT": a JWS of another kind must not pass as a notification.',
      input: { ...base, jws: await craftJws({ header: { alg: 'ES256', kid: 'ts-sig-2099-06', typ: 'JWT' }, payload: payload(NOW - 1), key: service.privateJwk }) },
      expected: error('jws_header_rejected'),
    },
    {
      id: 'ntf-wrong-alg',
      title: 'A notification signed with EdDSA',
      description: 'Signed by an EdDSA key that is in the JWK set: a notification is ES256 only.',
      input: { ...base, jws: await craftJws({ header: { alg: 'EdDSA', kid: 'ts-ed-2099-06', typ: NOTIFICATION_JWS_TYP }, payload: payload(NOW - 1), key: ed.privateJwk }) },
      expected: error('jws_header_rejected'),
    },
    {
      id: 'ntf-alg-none',
      title: 'An unsigned notification',
      description: 'alg "none" with the valid signature segment appended.',
      input: { ...base, jws: await craftJws({ header: { alg: 'none', kid: 'ts-sig-2099-06', typ: NOTIFICATION_JWS_TYP }, payload: payload(NOW - 1), signature: s! }) },
      expected: error('jws_header_rejected'),
    },
    {
      id: 'ntf-event-extra-member',
      title: 'A signed event with a member the schema does not have',
      description: 'Correctly signed, but the event carries "pan": the event schema is strict.',
      input: {
        ...base,
        jws: await craftJws({
          header: { alg: 'ES256', kid: 'ts-sig-2099-06', typ: NOTIFICATION_JWS_TYP },
          payload: JSON.stringify({ iss: ISSUER, aud: AUDIENCE, iat: NOW - 1, jti: event.eventId, event: { ...event, pan: '4111111111111111' } }),
          key: service.privateJwk,
        }),
      },
      expected: error('invalid_claims'),
    },
    {
      id: 'ntf-wrong-iss',
      title: 'A notification from another token service',
      description: 'Signed by the key of the set, iss "other-service".',
      input: {
        ...base,
        jws: await craftJws({
          header: { alg: 'ES256', kid: 'ts-sig-2099-06', typ: NOTIFICATION_JWS_TYP },
          payload: JSON.stringify({ iss: 'other-service', aud: AUDIENCE, iat: NOW - 1, jti: event.eventId, event }),
          key: service.privateJwk,
        }),
      },
      expected: error('unknown_issuer'),
    },
  ];

  for (const vector of cases) {
    const actual = await runNotificationVector(vector);
    if (JSON.stringify(actual) !== JSON.stringify(vector.expected)) {
      throw new Error(`${vector.id}: expected ${JSON.stringify(vector.expected)}, got ${JSON.stringify(actual)}`);
    }
  }
  const file: NotificationVectorFile = {
    $comment: 'Notification vectors of the pushprov protocol (spec sections 4.20, 5.7, 13). Format: docs/conformance.md, "Notification vectors". Generated by packages/protocol/scripts/generate-notification-vectors.ts; this file is the source of truth.',
    format: 'pushprov-notification-vectors',
    formatVersion: 1,
    protocolVersion: 1,
    generator: 'packages/protocol/scripts/generate-notification-vectors.ts',
    cases,
  };
  if (process.argv.includes('--check')) {
    process.stdout.write(`${cases.length} notification cases check\n`);
    return;
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'notifications.json');
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  process.stdout.write(`wrote ${cases.length} cases to ${out}\n`);
}

await main();
