import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  BindingError,
  CardError,
  CryptoError,
  DecisionError,
  VerificationError,
  LifecycleError,
  ERROR_CATALOG,
  ERROR_TITLES,
  ERROR_CODES,
  type ErrorFamily,
  ExpiryError,
  HttpError,
  InternalError,
  ProvisioningError,
  ReplayError,
  SchemaError,
  SessionError,
  TransportError,
  createError,
  isErrorCode,
  isProvisioningError,
  maskPan,
  redactPans,
  toProvisioningError,
} from '../src/errors.js';
import * as root from '../src/index.js';
import { USER_MESSAGES, type UserMessageAudience, userMessage } from '../src/messages.js';
import { PAN, exposedText } from './helpers/fixture.js';

const FAMILY_CLASSES: Record<ErrorFamily, typeof ProvisioningError> = {
  schema: SchemaError,
  crypto: CryptoError,
  claims: ExpiryError,
  replay: ReplayError,
  binding: BindingError,
  card: CardError,
  decision: DecisionError,
  verification: VerificationError,
  lifecycle: LifecycleError,
  auth: AuthError,
  http: HttpError,
  transport: TransportError,
  session: SessionError,
  internal: InternalError,
};

/** A PAN written in many ways a careless caller might pass it. */
const PAN_FORMS = [
  PAN,
  '4111 1111 1111 1111',
  '4111-1111-1111-1111',
  '6011000990139424', // 16-digit Discover test number
  '4000000000000000006', // 19 digits
  '378282246310005', // 15-digit Amex
  '٤١١١١١١١١١١١١١١١', // Arabic-Indic digits
  '۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱', // Extended Arabic-Indic digits
  '４１１１１１１１１１１１１１１１', // fullwidth digits
  '४१११११११११११११११', // Devanagari digits
];

describe('the error catalog', () => {
  it('gives every code a family class, status, retryability and title', () => {
    expect(ERROR_CODES).toEqual(Object.keys(ERROR_CATALOG));
    for (const code of ERROR_CODES) {
      const info = ERROR_CATALOG[code];
      const error = createError(code);
      expect(error).toBeInstanceOf(FAMILY_CLASSES[info.family]);
      expect(error).toBeInstanceOf(ProvisioningError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(FAMILY_CLASSES[info.family].name);
      expect(error.code).toBe(code);
      expect(error.family).toBe(info.family);
      expect(error.status).toBe(info.status);
      expect(error.retryable).toBe(info.retryable);
      // Without a message: the code in words; the longer title stays in the catalog (problem details carry it).
      expect(error.message).toBe(code.charAt(0).toUpperCase() + code.slice(1).replace(/_/g, ' '));
      expect(info.title).toBe(ERROR_TITLES[code]);
      expect(info.status).toBeGreaterThanOrEqual(400);
      expect(info.status).toBeLessThanOrEqual(599);
      expect(info.title.length).toBeGreaterThan(0);
    }
  });

  it('has at least one code in every family and no family without a class', () => {
    const families = new Set(ERROR_CODES.map((code) => ERROR_CATALOG[code].family));
    expect([...families].sort()).toEqual(Object.keys(FAMILY_CLASSES).sort());
  });

  it('marks exactly the transient failures as retryable', () => {
    const retryable = ERROR_CODES.filter((code) => ERROR_CATALOG[code].retryable).sort();
    expect(retryable).toEqual(['idempotency_in_flight', 'internal_error', 'network_error', 'rate_limited', 'server_error', 'store_unavailable', 'timeout', 'verification_cooldown']);
  });

  it('uses lower snake case codes', () => {
    for (const code of ERROR_CODES) expect(code).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
  });

  it('recognises codes and nothing inherited from Object.prototype', () => {
    for (const code of ERROR_CODES) expect(isErrorCode(code)).toBe(true);
    for (const value of ['toString', '__proto__', 'hasOwnProperty', 'constructor', '', 'EXPIRED', ' expired', 1, null, undefined, {}]) {
      expect(isErrorCode(value)).toBe(false);
    }
  });

  it('exports the same error API from the root and the errors entry', () => {
    expect(root.ERROR_CATALOG).toBe(ERROR_CATALOG);
    expect(root.ProvisioningError).toBe(ProvisioningError);
    expect(root.createError).toBe(createError);
  });
});

describe('ProvisioningError', () => {
  it('takes status, retryable, requestId, details and cause options', () => {
    const cause = new Error('low level');
    const error = new TransportError('server_error', 'The server failed', {
      status: 503,
      retryable: false,
      requestId: 'req_1',
      details: { attempt: 3, final: true, paths: ['a', 'b'] },
      cause,
    });
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(false);
    expect(error.requestId).toBe('req_1');
    expect(error.details).toEqual({ attempt: 3, final: true, paths: ['a', 'b'] });
    expect(Object.isFrozen(error.details)).toBe(true);
    expect(error.cause).toBe(cause);
  });

  it('has a JSON form without cause or stack', () => {
    const error = new SchemaError('invalid_message', 'Bad', { cause: new Error('secret-cause'), requestId: 'r1', details: { n: 1 } });
    const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(json).toEqual({
      name: 'SchemaError',
      code: 'invalid_message',
      message: 'Bad',
      retryable: false,
      status: 400,
      requestId: 'r1',
      details: { n: 1 },
    });
    expect(JSON.stringify(error)).not.toContain('secret-cause');
  });

  it('leaves requestId and details out of JSON when absent', () => {
    expect(Object.keys(createError('timeout').toJSON()).sort()).toEqual(['code', 'message', 'name', 'retryable', 'status']);
  });

  it('prints name, code and message in toString', () => {
    expect(String(createError('device_mismatch', 'No'))).toBe('BindingError [device_mismatch]: No');
  });

  it('works with isProvisioningError', () => {
    const error = createError('replayed');
    expect(isProvisioningError(error)).toBe(true);
    expect(isProvisioningError(error, 'replayed')).toBe(true);
    expect(isProvisioningError(error, 'expired')).toBe(false);
    expect(isProvisioningError(new Error('x'))).toBe(false);
    expect(isProvisioningError({ code: 'replayed' })).toBe(false);
  });

  it('wraps foreign errors without carrying their message over', () => {
    const foreign = new Error(`card ${PAN} broke`);
    const wrapped = toProvisioningError(foreign);
    expect(wrapped).toBeInstanceOf(InternalError);
    expect(wrapped.code).toBe('internal_error');
    expect(wrapped.cause).toBe(foreign);
    expect(wrapped.message).toBe('Internal error');
    expect(toProvisioningError('a string', 'network_error')).toMatchObject({ code: 'network_error' });
    const own = createError('expired');
    expect(toProvisioningError(own)).toBe(own);
  });
});

describe('no error ever shows a PAN it was handed', () => {
  it.each(PAN_FORMS)('masks %s in message, toString, JSON, details, stack and inspect', async (pan) => {
    for (const code of ERROR_CODES) {
      const error = createError(code, `rejected ${pan} because`, {
        details: { value: `pan=${pan}`, list: [pan, `x${pan}y`] },
        cause: new Error(`cause holds ${pan}`),
      });
      const text = await exposedText(error);
      expect(text).not.toContain(pan);
      expect(text.replace(/[ -]/g, '')).not.toContain(PAN);
    }
  });

  it('masks a PAN inside a longer run of digits or glued to letters', async () => {
    for (const text of [`${PAN}0000`, `00${PAN}`, `pan${PAN}x`, `${PAN}${PAN}`, `id:${PAN}.`]) {
      const error = new CardError('card_invalid', text, { details: { text } });
      expect(await exposedText(error)).not.toContain(PAN);
    }
  });

  it('shows a foreign cause only by name and redacted message in inspect', () => {
    const error = createError('internal_error', undefined, { cause: new TypeError(`bad ${PAN}`) });
    const printed = inspect(error);
    expect(printed).toContain('InternalError [internal_error]');
    expect(printed).toContain('TypeError: bad •••• 1111');
    expect(printed).not.toContain(PAN);
    const nested = createError('server_error', undefined, { cause: createError('timeout') });
    expect(inspect(nested)).toContain('cause: TransportError [timeout]');
    expect(inspect(createError('timeout', undefined, { cause: { pan: PAN } }))).not.toContain(PAN);
  });
});

describe('redactPans and maskPan', () => {
  it('masks runs of 12 to 19 ASCII digits to the last four', () => {
    expect(redactPans(`card ${PAN} refused`)).toBe('card •••• 1111 refused');
    expect(redactPans('4111 1111 1111 1111')).toBe('•••• 1111');
    expect(redactPans('4111-1111-1111-1111!')).toBe('•••• 1111!');
    expect(redactPans('a 5555555555554444 and 378282246310005')).toBe('a •••• 4444 and •••• 0005');
    expect(redactPans('123456789012')).toBe('•••• 9012');
  });

  it('leaves shorter runs alone', () => {
    expect(redactPans('offset 12345678901 at 2026-11-28 12:00')).toBe('offset 12345678901 at 2026-11-28 12:00');
    expect(redactPans('no digits')).toBe('no digits');
  });

  it('masks longer runs and non-ASCII digit runs completely', () => {
    expect(redactPans('12345678901234567890123')).toBe('••••');
    expect(redactPans('x ٤١١١١١١١١١١١١١١١ y')).toBe('x •••• y');
    expect(redactPans('４１１１１１１１１１１１１１１１')).toBe('••••');
  });

  it('masks a PAN to its last four', () => {
    expect(maskPan(PAN)).toBe('•••• 1111');
    expect(maskPan('1234')).toBe('•••• 1234');
    expect(maskPan('123')).toBe('••••');
    expect(maskPan('12345678901234567890')).toBe('••••');
    expect(maskPan('4111 1111 1111 1111')).toBe('••••');
    expect(maskPan('٤١١١١١١١١١١١١١١١')).toBe('••••');
    expect(maskPan(4111111111111111 as unknown as string)).toBe('••••');
  });
});

// An app can load two copies of this module at once: our ESM and our CommonJS
// build (one dependency imports, another requires), or two versions. Each
// copy has its own classes; the Symbol.for brand lets either recognise the
// other's errors.
type ErrorsModule = typeof import('../src/errors.js');

function checkAcrossCopies(a: ErrorsModule, b: ErrorsModule): void {
  expect(a.ProvisioningError).not.toBe(b.ProvisioningError);
  const fromB = b.createError('device_mismatch');
  expect(fromB instanceof a.ProvisioningError).toBe(true);
  expect(fromB instanceof a.BindingError).toBe(true);
  expect(fromB instanceof a.ReplayError).toBe(false);
  expect(a.isProvisioningError(fromB)).toBe(true);
  expect(a.isProvisioningError(fromB, 'device_mismatch')).toBe(true);
  expect(a.isProvisioningError(fromB, 'replayed')).toBe(false);
  expect(a.toProvisioningError(fromB)).toBe(fromB);
  // Every family class, both ways.
  for (const code of a.ERROR_CODES) {
    const family = a.ERROR_CATALOG[code].family;
    const [A, B] = [a.createError(code), b.createError(code)];
    for (const [error, other] of [[A, b], [B, a]] as const) {
      expect(error instanceof other.ProvisioningError, code).toBe(true);
      for (const [name, Class] of Object.entries({ schema: other.SchemaError, binding: other.BindingError, internal: other.InternalError, transport: other.TransportError })) {
        expect(error instanceof Class, `${code} instanceof ${name}`).toBe(name === family);
      }
    }
  }
  // An error of the base class is no family's.
  const base = new b.ProvisioningError('device_mismatch');
  expect(base instanceof a.ProvisioningError).toBe(true);
  expect(base instanceof a.BindingError).toBe(false);
  // A subclass of ours made by an app: recognised as ours by the other copy;
  // its own check stays the ordinary one.
  class AppBindingError extends b.BindingError {}
  const app = new AppBindingError('nonce_mismatch');
  expect(app instanceof a.BindingError).toBe(true);
  expect(app instanceof a.ProvisioningError).toBe(true);
  expect(a.createError('nonce_mismatch') instanceof AppBindingError).toBe(false);
  expect(b.createError('nonce_mismatch') instanceof AppBindingError).toBe(false);
  expect(app instanceof AppBindingError).toBe(true);
  // Not ours, whatever it looks like.
  for (const value of [new Error('x'), { code: 'device_mismatch', family: 'binding' }, null, undefined, 5, 'device_mismatch', Object.create(null)]) {
    expect(value instanceof a.ProvisioningError).toBe(false);
    expect(value instanceof a.BindingError).toBe(false);
    expect(a.isProvisioningError(value)).toBe(false);
  }
  expect(a.toProvisioningError(new Error('secret 4111111111111111')).code).toBe('internal_error');
}

describe('errors from another copy of the module', () => {
  it('are recognised by instanceof, isProvisioningError and toProvisioningError (two instances of the source)', async () => {
    const specifier = '../src/errors.js?copy=2';
    const copy = (await import(/* @vite-ignore */ specifier)) as ErrorsModule;
    checkAcrossCopies(
      { ...(await import('../src/errors.js')) },
      copy,
    );
    checkAcrossCopies(copy, { ...(await import('../src/errors.js')) });
  });

  it('carry the brand as a symbol that is neither enumerable nor serialised', () => {
    const error = createError('device_mismatch');
    const brand = Symbol.for('pushprov.ProvisioningError');
    expect((error as unknown as Record<symbol, unknown>)[brand]).toBe('binding');
    expect((new ProvisioningError('device_mismatch') as unknown as Record<symbol, unknown>)[brand]).toBe('');
    expect(Object.getOwnPropertySymbols(error)).not.toContain(brand);
    expect(Object.getOwnPropertySymbols({ ...error })).not.toContain(brand);
    expect(JSON.stringify(error)).not.toContain('binding"');
    // A family class given another family's code is still that class here.
    const odd = new BindingError('replayed');
    expect(odd instanceof BindingError).toBe(true);
    expect(odd instanceof ReplayError).toBe(false);
    expect(odd instanceof ProvisioningError).toBe(true);
  });

  const dist = new URL('../dist/', import.meta.url);
  // Needs the build (`pnpm test` builds first); without it, this fails rather than skips.
  it(
    'are recognised between the built ESM and CommonJS files loaded together (needs `pnpm build`)',
    async () => {
      const esm = (await import(/* @vite-ignore */ new URL('index.js', dist).href)) as ErrorsModule;
      const cjs = createRequire(import.meta.url)(fileURLToPath(new URL('index.cjs', dist))) as ErrorsModule;
      checkAcrossCopies(esm, cjs);
      checkAcrossCopies(cjs, esm);
      const errorsEsm = (await import(/* @vite-ignore */ new URL('errors.js', dist).href)) as ErrorsModule;
      expect(cjs.createError('expired') instanceof errorsEsm.ExpiryError).toBe(true);
    },
  );
});

describe('words for end users (@pushprov/protocol/messages)', () => {
  const AUDIENCES: UserMessageAudience[] = ['issuerApp', 'wallet'];
  const all = () => ERROR_CODES.flatMap((code) => AUDIENCES.map((audience) => ({ code, audience, text: USER_MESSAGES[code][audience] })));
  /** Words a customer should never read: protocol, crypto and HTTP terms. */
  const DEVELOPER_WORDS =
    /\b(jti|jwe|jws|jwk|jwks|jose|kid|nonce|iss|aud|claims?|schema|payload|json|https?|api|url|header|endpoint|idempotency|idempotent|config(uration)?|token|issuer|provider|session|origin|status|request id|null|undefined|decrypt\w*|encrypt\w*|signature|bin|pan|cors|popup|postmessage|sdk)\b/i;
  /** Words that blame the user or alarm without helping. */
  const BLAME_WORDS = /\b(invalid|illegal|error|fail(ed|ure|s)?|rejected|denied|refused|forbidden|not allowed|unauthori[sz]ed|your fault|you entered)\b/i;

  it('has both messages for every code of the catalog, and nothing else', () => {
    expect(Object.keys(USER_MESSAGES).sort()).toEqual([...ERROR_CODES].sort());
    for (const { code, audience, text } of all()) {
      expect(typeof text, `${code}.${audience}`).toBe('string');
      expect(text.trim().length, `${code}.${audience}`).toBeGreaterThan(10);
    }
  });

  it('is short, plain sentences: a capital first, a full stop last, at most 140 characters', () => {
    for (const { code, audience, text } of all()) {
      expect(text, `${code}.${audience}`).toMatch(/^[A-Z].*\.$/);
      expect(text.length, `${code}.${audience}: ${text}`).toBeLessThanOrEqual(140);
      expect(text, `${code}.${audience}: typographic apostrophes`).not.toContain("'");
    }
  });

  it('never holds a code, a digit or a developer word', () => {
    for (const { code, audience, text } of all()) {
      const where = `${code}.${audience}: ${text}`;
      for (const other of ERROR_CODES) expect(text.toLowerCase(), `${where} names ${other}`).not.toContain(other);
      expect(text, where).not.toMatch(/[_`{}[\]<>#=]/);
      expect(text, where).not.toMatch(/\p{Nd}/u);
      expect(text, where).not.toMatch(DEVELOPER_WORDS);
      expect(text, where).not.toMatch(BLAME_WORDS);
    }
  });

  it('says "Try again" exactly where the catalog marks the code retryable', () => {
    for (const { code, audience, text } of all()) {
      expect(/\btry again\b/i.test(text), `${code}.${audience}: ${text}`).toBe(ERROR_CATALOG[code].retryable);
    }
  });

  it('treats the user’s own choice as an ending, not a failure', () => {
    for (const code of ['consent_denied', 'cancelled'] as const) {
      for (const audience of AUDIENCES) expect(USER_MESSAGES[code][audience]).toMatch(/whenever you like/);
    }
  });

  it('is listed in docs/troubleshooting.md, both messages in each code’s entry', () => {
    const text = readFileSync(new URL('../../../docs/troubleshooting.md', import.meta.url), 'utf8');
    const sections = new Map(text.split(/^### /m).slice(1).map((part) => [/^`([a-z_]+)`/.exec(part)?.[1] ?? '', part]));
    for (const code of ERROR_CODES) {
      const section = sections.get(code) ?? '';
      expect(section, `${code}: issuerApp`).toContain(`- Bank’s app: “${USER_MESSAGES[code].issuerApp}”`);
      expect(section, `${code}: wallet`).toContain(`- Wallet: “${USER_MESSAGES[code].wallet}”`);
    }
  });

  it('userMessage: by code and audience, the internal_error message for a code it does not know', () => {
    expect(userMessage('declined', 'issuerApp')).toBe(USER_MESSAGES.declined.issuerApp);
    expect(userMessage('declined', 'wallet')).toBe(USER_MESSAGES.declined.wallet);
    expect(userMessage('no_such_code', 'wallet')).toBe(USER_MESSAGES.internal_error.wallet);
    expect(userMessage('toString', 'issuerApp')).toBe(USER_MESSAGES.internal_error.issuerApp);
  });

  it('stays out of the root entry: only UIs that import the messages entry carry it', () => {
    expect(root).not.toHaveProperty('USER_MESSAGES');
    expect(root).not.toHaveProperty('userMessage');
  });
});
