// Issue 17, item 4: no secret in any public object. The service and the
// running server hand out their configuration, store and clock; none of
// them, serialised or inspected, may carry a private key or a vault key.
import { inspect } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenService } from '../src/index.js';
import { startTokenServer } from '../src/server.js';
import { createFixture, createTempDir } from './helpers.js';

/** Every secret of a fixture's key set, as the strings that must never appear. */
function secretsOf(keySet: { encryptionKeys: { keys: Array<{ d?: string | undefined }> }; vault?: { keks: Array<{ key: string }>; fingerprintKey?: string | undefined } | undefined }): string[] {
  const secrets = keySet.encryptionKeys.keys.map((k) => k.d).filter((d): d is string => typeof d === 'string');
  for (const kek of keySet.vault?.keks ?? []) secrets.push(kek.key);
  if (keySet.vault?.fingerprintKey) secrets.push(keySet.vault.fingerprintKey);
  return secrets;
}

function expectNoSecret(value: unknown, secrets: string[]): void {
  const texts = [JSON.stringify(value), inspect(value, { depth: 12, showHidden: true, getters: true })];
  for (const text of texts) for (const secret of secrets) expect(text.includes(secret)).toBe(false);
}

describe('secrets stay out of public objects', () => {
  it('TokenService.config has the public encryption keys and the vault key ids, never a private key or a vault key', async () => {
    const fx = await createFixture();
    const secrets = secretsOf(fx.keySet);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    const service = createTokenService(fx.config);
    expectNoSecret(service.config, secrets);
    expectNoSecret(service, secrets);
    expect(service.config.keys.encryptionKeys.keys.every((k) => !('d' in k))).toBe(true);
    expect(service.config.keys.vault.keyIds).toEqual(fx.keySet.vault!.keks.map((k) => k.id));
    // Frozen: nobody can put one back.
    expect(Object.isFrozen(service.config)).toBe(true);
    await service.close();
  });

  it('RunningTokenServer.service carries no secret either', async () => {
    const fx = await createFixture();
    const temp = createTempDir();
    const server = await startTokenServer({ config: fx.config, dbPath: join(temp.dir, 'tokens.db') });
    try {
      expectNoSecret(server.service, secretsOf(fx.keySet));
      expectNoSecret(server, secretsOf(fx.keySet));
    } finally {
      await server.close();
      temp.remove();
    }
  });
});
