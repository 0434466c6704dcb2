import { readFileSync } from 'node:fs';
import { compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, NOTIFICATION_JWS_TYP, PROTOCOL_VERSION, parseStrictJson, zNotificationEvent } from '../src/index.js';
import { headerOf } from '../scripts/lib/jose-craft.js';
import { type NotificationVectorFile, runNotificationVector } from '../scripts/lib/run-notification-vector.js';

const text = readFileSync(new URL('../vectors/notifications.json', import.meta.url), 'utf8');
const file = JSON.parse(text) as NotificationVectorFile;

describe('the notification vector file', () => {
  it('is strict JSON of the documented format', () => {
    expect(() => parseStrictJson(text, { maxLength: 200_000, maxDepth: 16 })).not.toThrow();
    expect(file.format).toBe('pushprov-notification-vectors');
    expect(file.formatVersion).toBe(1);
    expect(file.protocolVersion).toBe(PROTOCOL_VERSION);
  });

  it('has the cases the spec names, each with a unique ntf- id, a title, a description and a known code', () => {
    const ids = file.cases.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['valid', 'forged-signature', 'altered-payload', 'replayed', 'expired', 'not-yet-valid', 'unknown-kid', 'wrong-aud', 'wrong-typ', 'wrong-alg']) {
      expect(ids).toContain(`ntf-${id}`);
    }
    for (const c of file.cases) {
      expect(c.id).toMatch(/^ntf-[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(c.title.length).toBeGreaterThan(5);
      expect(c.description.length).toBeGreaterThan(5);
      if (c.expected.outcome === 'error') expect(ERROR_CODES).toContain(c.expected.code);
      else expect(zNotificationEvent.safeParse(c.expected.event).success).toBe(true);
      expect(c.input.now).toBeGreaterThan(Date.now() / 1000 + 50 * 365 * 86_400);
    }
  });

  it('has positive cases that verify with plain jose calls, as an independent implementation would', async () => {
    const positive = file.cases.filter((c) => c.expected.outcome === 'ok');
    expect(positive.length).toBeGreaterThanOrEqual(2);
    for (const c of positive) {
      const header = headerOf(c.input.jws);
      expect(header.typ).toBe(NOTIFICATION_JWS_TYP);
      const jwk = c.input.jwks.keys.find((k) => k.kid === header.kid)!;
      const { payload } = await compactVerify(c.input.jws, await importJWK(jwk, 'ES256'), { algorithms: ['ES256'] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as { event: unknown; jti: string; aud: string };
      expect(claims.event).toEqual((c.expected as { event: unknown }).event);
      expect(claims.aud).toBe(c.input.audience);
    }
  });
});

describe('every notification vector through the TypeScript implementation', () => {
  it.each(file.cases.map((c) => [c.id, c] as const))('%s', async (_id, vector) => {
    expect(await runNotificationVector(vector)).toEqual(vector.expected);
  });
});
