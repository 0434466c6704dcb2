import { describe, expect, it } from 'vitest';
import { ProvisioningError, checkExactOrigin } from '../src/index.js';

describe('checkExactOrigin (the one rule for both browser channels)', () => {
  it.each(['https://bank.example', 'https://wallet.example:8443', 'http://127.0.0.1:5173', 'http://localhost:3000', 'http://[::1]:8080'])(
    'accepts %s and returns it unchanged',
    (origin) => {
      expect(checkExactOrigin(origin, 'Issuer')).toBe(origin);
    },
  );

  it.each([
    ['a trailing slash', 'https://bank.example/'],
    ['a path', 'https://bank.example/push'],
    ['plain http off loopback', 'http://bank.example'],
    ['a wildcard host', 'https://*.bank.example'],
    ['the opaque origin', 'null'],
    ['upper case (not the serialised form)', 'https://Bank.example'],
    ['credentials', 'https://user@bank.example'],
    ['another scheme', 'ftp://bank.example'],
    ['not a URL', 'bank.example'],
  ])('refuses %s with configuration_invalid naming the role', (_label, origin) => {
    let caught: unknown;
    try {
      checkExactOrigin(origin, 'Wallet');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProvisioningError);
    expect((caught as ProvisioningError).code).toBe('configuration_invalid');
    expect((caught as ProvisioningError).message).toContain('Wallet origins');
  });

  it('refuses a value that is not a string', () => {
    expect(() => checkExactOrigin(new URL('https://bank.example'), 'Issuer')).toThrow(/Issuer origins/);
  });
});
