// Submissions that fail at each validation step of docs/protocol.md
// section 6 that a dry run checks (3 to 15), for the request inspector's
// tests (HTTP and Chromium). Step 12 needs a request already used: the
// test submits it for real first.
import { type Card, generateSigningKey } from '@pushprov/protocol';
import { CARD, type Fixture, PAN_DECLINE, buildSubmission, createIdentifiers, sealRaw } from './helpers.js';

/** One failing case: the step it fails at, its code, and the body to paste (JSON text). */
export interface FailingCase {
  step: number;
  code: string;
  body: string;
  /** Step 12: submit `body` for real first (then inspecting it finds its jti used). */
  useFirst?: boolean;
}

const text = (value: unknown) => JSON.stringify(value);

/** A Luhn-valid card outside the fixture issuer's BIN range (411111). */
const OUT_OF_RANGE: Card = { pan: '5555555555554444', expiry: { month: 12, year: 2030 } };

/** The failing cases, one per step 3 to 15, in order. */
export async function failingCases(fx: Fixture): Promise<FailingCase[]> {
  const fresh = (options: Parameters<typeof buildSubmission>[1] = {}) => buildSubmission(fx, { identifiers: createIdentifiers(), ...options });
  const valid = (await fresh()).submission;
  const [h, p, iv, ct, tag] = valid.encryptedRequest.split('.') as [string, string, string, string, string];
  // The same kid, another key: the signature cannot verify.
  const impostor = await generateSigningKey({ alg: 'ES256', kid: fx.issuer.publicJwk.kid });
  const claimsOf = async (change: (claims: Record<string, unknown>) => Record<string, unknown>, signingKey = fx.issuer.privateJwk) => {
    const built = await fresh();
    const encryptedRequest = await sealRaw({ payload: change({ ...built.claims }), signingKey, encryptionKey: fx.serviceEncryptionKey });
    return text({ ...built.submission, encryptedRequest });
  };
  const flipped = `${ct.slice(0, -2)}${ct.endsWith('AA') ? 'BB' : 'AA'}`;
  return [
    { step: 3, code: 'invalid_message', body: text({ type: 'submission', version: 1, sessionId: valid.sessionId }) },
    {
      step: 4,
      code: 'unknown_key',
      body: text({ ...valid, encryptedRequest: await sealRaw({ payload: (await fresh()).claims, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey, jweHeader: { kid: 'svc-unknown' } }) }),
    },
    { step: 5, code: 'decryption_failed', body: text({ ...valid, encryptedRequest: [h, p, iv, flipped, tag].join('.') }) },
    {
      step: 6,
      code: 'jws_header_rejected',
      body: text({ ...valid, encryptedRequest: await sealRaw({ payload: (await fresh()).claims, signingKey: fx.issuer.privateJwk, encryptionKey: fx.serviceEncryptionKey, jwsHeader: { typ: 'JWT' } }) }),
    },
    { step: 7, code: 'unknown_issuer', body: await claimsOf((c) => ({ ...c, iss: 'bank-z' })) },
    { step: 8, code: 'signature_invalid', body: await claimsOf((c) => c, impostor.privateJwk) },
    { step: 9, code: 'invalid_claims', body: await claimsOf((c) => ({ ...c, extra: 'member' })) },
    { step: 10, code: 'audience_mismatch', body: await claimsOf((c) => ({ ...c, aud: 'another-service' })) },
    { step: 11, code: 'expired', body: await claimsOf((c) => ({ ...c, iat: (c.iat as number) - 3600, exp: (c.exp as number) - 3600 })) },
    { step: 12, code: 'replayed', body: text((await fresh()).submission), useFirst: true },
    { step: 13, code: 'device_mismatch', body: text({ ...(await fresh()).submission, deviceId: 'device-somewhere-else' }) },
    { step: 14, code: 'card_not_eligible', body: text((await fresh({ card: OUT_OF_RANGE })).submission) },
    { step: 15, code: 'declined', body: text((await fresh({ card: { ...CARD, pan: PAN_DECLINE } })).submission) },
  ];
}
