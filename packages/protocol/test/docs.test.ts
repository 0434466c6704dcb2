import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as protocol from '../src/index.js';
import { ERROR_TABLE_END, ERROR_TABLE_START, renderErrorTable } from '../scripts/lib/error-table.js';
import {
  MESSAGE_CASES,
  sampleAccountsRefusal,
  sampleAccountsRequest,
  sampleActivationInvocation,
  sampleIdentifiersMessage,
  sampleInvocation,
  sampleMultiIdentifiers,
  sampleMultiInvocation,
  sampleMultiRequestMessage,
  sampleMultiResult,
  sampleRequestMessage,
  sampleResult,
  sampleStatusQuery,
  sampleStatusResponse,
} from './helpers/samples.js';

const spec = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
const conformance = readFileSync(new URL('../../../docs/conformance.md', import.meta.url), 'utf8');

/** Every schema that has a field table in docs/protocol.md. */
const DOCUMENTED_SCHEMAS = [
  'zInvocation',
  'zAccountHint',
  'zIdentifiers',
  'zPublicEcJwk',
  'zProvisioningRequestMessage',
  'zAccountRequest',
  'zAccountRefusal',
  'zResult',
  'zAccountOutcome',
  'zRequestClaims',
  'zConfirmation',
  'zCard',
  'zExpiry',
  'zBillingAddress',
  'zSubmission',
  'zProvisioningResponse',
  'zAccessData',
  'zTokenStatusResponse',
  'zIssuerTokenStatusResponse',
  'zProblemDetails',
  'zVerification',
  'zVerificationMethod',
  'zVerificationRequest',
  'zVerificationStarted',
  'zActivationRequest',
  'zIssuerActivation',
  'zActivationInvocation',
  'zLifecycleRequest',
  'zIssuerLifecycleRequest',
  'zLifecycleResponse',
  'zIssuerTokenSummary',
  'zIssuerTokenSearchResult',
  'zCardTokenChange',
  'zCardLifecycleResult',
  'zTokenHistory',
  'zTokenHistoryEntry',
  'zNotificationEvent',
  'zNotificationFeed',
  'zRedeliveryAccepted',
  'zStatusQuery',
  'zStatusResponse',
  'zAccountStatus',
  'zAccountsRequest',
  'zAccountsRefusal',
  'zTokenQuery',
  'zTokenQueryEntry',
  'zTokenQueryResponse',
] as const;

type Shape = Record<string, { _zod: { optin?: string } }>;

/** The rows `| \`field\` | type | required | … |` of the table after `<!-- schema: name -->`. */
function documentedFields(name: string): Map<string, boolean> {
  const marker = `<!-- schema: ${name} -->`;
  const start = spec.indexOf(marker);
  expect(start, `docs/protocol.md has no table for ${name}`).toBeGreaterThanOrEqual(0);
  expect(spec.indexOf(marker, start + 1), `${name} is documented twice`).toBe(-1);
  const lines = spec.slice(start + marker.length).split('\n').slice(1);
  expect(lines[0]).toBe('| field | type | required | description |');
  const fields = new Map<string, boolean>();
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').map((cell) => cell.trim());
    const match = /^`([A-Za-z0-9]+)`$/.exec(cells[1]!);
    expect(match, `malformed row in ${name}: ${line}`).not.toBeNull();
    expect(['yes', 'no'], `required column of ${name}.${match![1]}`).toContain(cells[3]);
    expect(fields.has(match![1]!), `${name}.${match![1]} listed twice`).toBe(false);
    fields.set(match![1]!, cells[3] === 'yes');
  }
  return fields;
}

/** A section of docs/protocol.md, from its heading to the next heading of the same level. */
function section(heading: string): string {
  const start = spec.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const level = heading.split(' ')[0]!;
  const next = spec.indexOf(`\n${level} `, start + heading.length + 2);
  return spec.slice(start, next < 0 ? undefined : next);
}

describe('docs/protocol.md matches the schemas', () => {
  it.each(DOCUMENTED_SCHEMAS)('documents exactly the fields of %s, with the right required flags', (name) => {
    const schema = (protocol as unknown as Record<string, { _zod: { def: { shape: Shape } } }>)[name]!;
    const shape = schema._zod.def.shape;
    const expected = new Map(Object.entries(shape).map(([field, s]) => [field, s._zod.optin !== 'optional']));
    expect(documentedFields(name)).toEqual(expected);
  });

  it('documents every message schema the package exports', () => {
    const exported = Object.keys(protocol).filter((key) => /^z[A-Z]/.test(key) && key !== 'zAppMessage');
    const objects = exported.filter((key) => {
      const def = (protocol as unknown as Record<string, { _zod?: { def?: { type?: string; shape?: unknown } } }>)[key]?._zod?.def;
      return def?.type === 'object' && def.shape !== undefined;
    });
    // zPublicJwks is the key set format (section 5.2), not a message.
    expect(objects.filter((key) => key !== 'zPublicJwks').sort()).toEqual([...DOCUMENTED_SCHEMAS].sort());
  });

  it('states the size limit of every message as the parsers enforce it', () => {
    const sizes = section('## 3. Encoding rules common to every message');
    for (const { name, maxLength } of MESSAGE_CASES) {
      const row = sizes.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${name}\``));
      expect(row, name).toBeDefined();
      const number = Number(row!.split('|')[2]!.replace(/[^0-9]/g, ''));
      expect(number, name).toBe(maxLength);
    }
  });

  it('states the limit of every app message and form as appMessageLimit gives it, and parseAppMessage holds each there', () => {
    const sizes = section('## 3. Encoding rules common to every message');
    const forms: [string, protocol.AppMessage][] = [
      ['`invocation` with one `account`', sampleInvocation()],
      ['`invocation` with `accounts`', sampleMultiInvocation()],
      ['`identifiers`', sampleIdentifiersMessage()],
      ['`identifiers`', sampleMultiIdentifiers()],
      ['`provisioning-request` with `encryptedRequest`', sampleRequestMessage()],
      ['`provisioning-request` with `requests` and `refusals`', sampleMultiRequestMessage()],
      ['`result` (also with `accounts`)', sampleResult()],
      ['`result` (also with `accounts`)', sampleMultiResult()],
      ['`activation-invocation`', sampleActivationInvocation()],
      ['`status-query`', sampleStatusQuery()],
      ['`status-response`', sampleStatusResponse()],
      ['`accounts-request`', sampleAccountsRequest()],
      ['`accounts-refusal`', sampleAccountsRefusal()],
    ];
    // every member of the app message union is among them
    expect(new Set(forms.map(([, message]) => message.type))).toEqual(new Set(protocol.zAppMessage.def.options.map((o) => o.def.shape.type.def.values[0])));
    for (const [label, message] of forms) {
      const row = sizes.split('\n').find((line) => line.startsWith('|') && line.includes(label));
      expect(row, label).toBeDefined();
      const limit = Number(row!.split('|')[2]!.replace(/[^0-9]/g, ''));
      expect(limit, label).toBe(protocol.appMessageLimit(message));
      const text = JSON.stringify(message);
      const padded = text + ' '.repeat(limit - text.length);
      expect(protocol.parseAppMessage(padded), label).toEqual(message);
      expect(() => protocol.parseAppMessage(`${padded} `), label).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
    }
  });

  it('names the profile constants the code pins', () => {
    for (const value of [
      protocol.REQUEST_JWS_TYP,
      protocol.INVOCATION_JWS_TYP,
      protocol.STATUS_QUERY_JWS_TYP,
      protocol.CLIENT_ASSERTION_TYP,
      protocol.NOTIFICATION_JWS_TYP,
      protocol.ACCESS_DATA_CTY,
      protocol.KEY_MANAGEMENT_ALGORITHM,
      protocol.CONTENT_ENCRYPTION_ALGORITHM,
      protocol.PROBLEM_TYPE_BASE,
      protocol.PROBLEM_CONTENT_TYPE,
      ...protocol.SIGNING_ALGORITHMS,
    ]) {
      expect(spec, value).toContain(value);
    }
    const time = section("## 6. The token service's validation order");
    expect(time).toContain(`default ${protocol.DEFAULT_CLOCK_SKEW_SECONDS} s`);
    expect(time).toContain(`default ${protocol.DEFAULT_MAX_LIFETIME_SECONDS} s`);
    expect(spec).toContain(`Issuers SHOULD use ${protocol.DEFAULT_REQUEST_LIFETIME_SECONDS}`);
    expect(spec).toContain(`0 < exp - iat <= ${protocol.MAX_CLIENT_ASSERTION_LIFETIME_SECONDS}`);
  });
});

describe('docs/protocol.md: status answers (section 4.23)', () => {
  const answer = () => section('### 4.23 Status answer (wallet → issuer app)');

  it('lists exactly the account states of zAccountState', () => {
    const rows = answer()
      .split('\n')
      .filter((line) => /^\| `[a-z_]+` \| /.test(line) && !line.includes(' | yes | ') && !line.includes(' | no | '));
    expect(rows.map((row) => /^\| `([a-z_]+)`/.exec(row)![1])).toEqual([...protocol.zAccountState.options]);
  });

  it('states the precedence accountStateOf applies', () => {
    const listed = [...answer().matchAll(/^\d\. `([a-z_]+)`/gm)].map((m) => m[1]);
    const token = (status: protocol.LiveTokenState['status'], activationStarted = false): protocol.LiveTokenState => ({ status, activationStarted });
    // one token of each kind, and the state of every pair: the higher one wins
    const byState: Record<string, protocol.LiveTokenState> = {
      needs_activation: token('pending_activation'),
      activating: token('pending_activation', true),
      suspended: token('suspended'),
      added: token('active'),
    };
    expect(listed).toEqual(Object.keys(byState));
    for (let high = 0; high < listed.length; high++) {
      for (let low = high; low < listed.length; low++) {
        expect(protocol.accountStateOf([byState[listed[low]!]!, byState[listed[high]!]!])).toBe(listed[high]);
      }
    }
    expect(answer()).toContain('`not_added` when the side has no live token');
    expect(protocol.accountStateOf([])).toBe('not_added');
  });
});

describe('the validation order', () => {
  const order = section("## 6. The token service's validation order");
  const codesInOrder = (text: string) => [...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!).filter((code) => protocol.isErrorCode(code));

  it('lists the codes of openProvisioningRequest in the order of its doc comment', () => {
    const source = readFileSync(new URL('../src/crypto/open-provisioning-request.ts', import.meta.url), 'utf8');
    const comment = source.slice(source.indexOf('/**\n * The token service'), source.indexOf('export async function openProvisioningRequest'));
    const fromComment = codesInOrder(comment.slice(0, comment.indexOf('Replay, binding')));
    expect(fromComment.length).toBeGreaterThanOrEqual(12);
    const fromSpec = codesInOrder(order).filter((code) => fromComment.includes(code));
    // the spec may repeat a code in its explanation; its first mentions follow the comment's order
    expect([...new Set(fromSpec)]).toEqual([...new Set(fromComment)]);
  });

  it('puts replay, binding, card and decision after the cryptographic steps, in the order checkBinding uses', () => {
    const codes: string[] = [...new Set(codesInOrder(order))];
    const after = ['replayed', 'session_mismatch', 'wallet_provider_mismatch', 'wallet_account_mismatch', 'device_mismatch', 'nonce_mismatch', 'device_key_mismatch', 'card_expired', 'card_not_eligible', 'declined'];
    const positions = after.map((code) => codes.indexOf(code));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(codes.indexOf('expired')).toBeLessThan(codes.indexOf('replayed'));
  });
});

describe('the error table', () => {
  it('is exactly the rendering of ERROR_CATALOG (run scripts/update-docs.ts after changing the catalog)', () => {
    const start = spec.indexOf(ERROR_TABLE_START);
    const end = spec.indexOf(ERROR_TABLE_END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    expect(spec.slice(start + ERROR_TABLE_START.length, end).trim()).toBe(renderErrorTable());
  });

  it('has one row per code', () => {
    for (const code of protocol.ERROR_CODES) expect(renderErrorTable()).toContain(`| \`${code}\` | ${protocol.ERROR_CATALOG[code].family} | ${protocol.ERROR_CATALOG[code].status} |`);
  });
});

describe('docs/conformance.md', () => {
  it('documents every kind and every input member the vectors use', () => {
    const vectors = JSON.parse(readFileSync(new URL('../vectors/vectors.json', import.meta.url), 'utf8')) as {
      cases: { kind: string; input: Record<string, unknown>; expected: Record<string, unknown> }[];
    };
    const members = new Set<string>();
    for (const c of vectors.cases) {
      expect(conformance, c.kind).toContain(`\`${c.kind}\``);
      for (const key of Object.keys(c.input)) members.add(key);
      for (const key of Object.keys(c.expected)) members.add(key);
    }
    for (const member of members) expect(conformance, member).toContain(`\`${member}\``);
  });
});

describe('docs/protocol.md: notifications (sections 4.20, 5.7, 13)', () => {
  const cellOf = (field: string) => {
    const row = section('### 4.20 Notification event (token service → issuer, wallet provider)')
      .split('\n')
      .find((line) => line.startsWith(`| \`${field}\` |`));
    expect(row, field).toBeDefined();
    return [...row!.split('|')[2]!.matchAll(/`([a-z_.]+)`/g)].map((m) => m[1]);
  };

  it('lists exactly the reasons, actors and event types of the schemas', () => {
    expect(cellOf('reason')).toEqual(protocol.zLifecycleReason.options);
    expect(cellOf('actor')).toEqual(protocol.zLifecycleActor.options);
    const intro = section('### 4.20 Notification event (token service → issuer, wallet provider)');
    for (const type of protocol.zNotificationEventType.options) expect(intro).toContain(`\`${type}\``);
  });

  it('states the receiver defaults the code applies', () => {
    const receiving = section('## 13. Receiving notifications');
    expect(receiving).toContain(`\`maxAge\` ${protocol.DEFAULT_NOTIFICATION_MAX_AGE_SECONDS} s`);
    expect(receiving).toContain(`\`skew\` ${protocol.DEFAULT_NOTIFICATION_CLOCK_SKEW_SECONDS} s`);
    expect(receiving).toContain(`(${protocol.DEFAULT_NOTIFICATION_DEDUP_RETENTION_SECONDS / 3600} hours by default)`);
    expect(section('### 5.7 Notification signature')).toContain(`"alg": "${protocol.NOTIFICATION_ALGORITHM}"`);
  });
});
