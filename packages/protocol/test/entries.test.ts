// The public entries of @pushprov/protocol (issue 18, item 7): subpaths by
// concern, the root re-exporting them, and the internals in none of them.
import { describe, expect, it } from 'vitest';
import * as channels from '../src/channels.js';
import * as errors from '../src/errors.js';
import * as http from '../src/http.js';
import * as root from '../src/index.js';
import * as internal from '../src/internal.js';
import * as jose from '../src/jose.js';
import * as messages from '../src/messages.js';
import * as schemas from '../src/schemas.js';

const PUBLIC = { errors, schemas, jose, channels, http } as const;

/** What left the root for `@pushprov/protocol/internal` (also in the changeset). */
const INTERNAL = [
  'abortError',
  'checkEpk',
  'checkHeader',
  'decodeHeaderStrict',
  'importKeyCached',
  'isKeyHandle',
  'parseWith',
  'peekClientAssertionIssuer',
  'toDecryptionKeyHandle',
  'toSigningKeyHandle',
  'withDeadline',
];

describe('@pushprov/protocol entries', () => {
  it('internal holds exactly the internals, and no public entry (nor the root) has any of them', () => {
    expect(Object.keys(internal).sort()).toEqual(INTERNAL);
    for (const [name, entry] of Object.entries({ root, messages, ...PUBLIC })) {
      expect(Object.keys(entry).filter((key) => INTERNAL.includes(key)), name).toEqual([]);
    }
    // The zod refinement helper is not exported at all.
    expect(Object.keys(root)).not.toContain('ppCode');
  });

  it('the root re-exports every public entry, the same values', () => {
    for (const [name, entry] of Object.entries(PUBLIC)) {
      for (const [key, value] of Object.entries(entry)) expect(root[key as keyof typeof root], `${name}.${key}`).toBe(value);
    }
  });

  it('each public entry holds its own concern', () => {
    expect(schemas).toHaveProperty('parseInvocation');
    expect(schemas).toHaveProperty('parseStrictJson');
    expect(schemas).toHaveProperty('parseTokenQuery');
    expect(schemas).toHaveProperty('parseTokenQueryResponse');
    expect(schemas).toHaveProperty('MAX_QUERY_ACCOUNTS');
    expect(schemas).not.toHaveProperty('sealProvisioningRequest');
    expect(jose).toHaveProperty('sealProvisioningRequest');
    expect(jose).toHaveProperty('verifyClientAssertion');
    expect(jose).not.toHaveProperty('createMemoryChannelPair');
    expect(channels).toHaveProperty('createMemoryChannelPair');
    expect(channels).toHaveProperty('BaseAppChannel');
    expect(http).toHaveProperty('toProblemDetails');
    expect(http).toHaveProperty('readResponseText');
    expect(errors).toHaveProperty('ProvisioningError');
  });
});
