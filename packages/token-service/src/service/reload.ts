// What a configuration reload (RunningTokenServer.reload, SIGHUP in
// `token-service start`) decides besides building the new service: which
// decryption keys of the configurations it replaces stay accepted, until
// when; and how a refused reload is told in one log line, without secrets.
import { type KeyJwk, isProvisioningError } from '@pushprov/protocol';
import { ConfigError } from '../config/parse-config.js';

/** A decryption key of an earlier configuration, accepted until `untilMs`. */
export interface GraceKey {
  key: KeyJwk;
  untilMs: number;
}

/**
 * The grace keys after a reload at `nowMs`: the previous configuration's
 * encryption keys that the next one lacks (by `kid`), until `nowMs +
 * graceMs`, and those of earlier reloads still in their grace period. A
 * `kid` the next configuration has is never a grace key (the configured key
 * wins); each `kid` appears once.
 */
export function planGraceKeys(previous: readonly GraceKey[], leaving: readonly KeyJwk[], nextKids: ReadonlySet<string>, nowMs: number, graceMs: number): GraceKey[] {
  const out = new Map<string, GraceKey>();
  for (const g of previous) if (g.untilMs > nowMs && !nextKids.has(g.key.kid)) out.set(g.key.kid, g);
  if (graceMs > 0) for (const key of leaving) if (!nextKids.has(key.kid)) out.set(key.kid, { key, untilMs: nowMs + graceMs });
  return [...out.values()];
}

/** Why a reload was refused, for one log line: the code and a reason without secrets (configuration issues joined by `; `). */
export function describeReloadFailure(error: unknown): { code: string; reason: string } {
  if (error instanceof ConfigError) return { code: error.code, reason: error.issues.join('; ').slice(0, 2000) };
  if (isProvisioningError(error)) return { code: error.code, reason: error.message.replace(/\s*\n\s*/g, ' ').slice(0, 2000) };
  return { code: 'internal_error', reason: error instanceof Error ? error.name : typeof error };
}
