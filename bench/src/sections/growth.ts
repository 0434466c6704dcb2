import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createMemoryStore, createTokenService, openSqliteStore } from '@pushprov/token-service';
import { type Fixture, WALLET_PROVIDER_ID, prepareRequest } from '../lib/fixture.js';
import type { Task } from '../lib/paired.js';
import type { BenchParams } from '../lib/params.js';
import type { BenchRow } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { measureService } from './service.js';

/** Sealed values of a real token, so that synthetic rows have the real sizes. */
interface RowTemplate {
  sealedTokenNumber: string;
  sealedCard: string;
}

async function realTemplate(fx: Fixture): Promise<RowTemplate> {
  const store = createMemoryStore();
  const service = createTokenService(fx.config, store);
  const request = await prepareRequest(fx, 0);
  const { body } = await service.submit({ submission: request.body, walletProviderId: WALLET_PROVIDER_ID, idempotencyKey: request.idempotencyKey });
  const token = await store.tokens.find(body.tokenReferenceId);
  const vault = await store.vault.find(body.tokenReferenceId);
  await service.close();
  if (!token || !vault || token.sealedTokenNumber === null) throw new Error('the template token was not stored');
  return { sealedTokenNumber: token.sealedTokenNumber, sealedCard: vault.sealedCard };
}

/**
 * Fills the store's own schema (created by `openSqliteStore`) with `count`
 * synthetic tokens and their vault rows: random reference ids, token number
 * hashes and PAN fingerprints (so index inserts land anywhere, as real ones
 * do), sealed values of real size. Batched transactions without fsync, then
 * one fsync of the file before anything is measured.
 */
export async function prefillVault(dbPath: string, count: number, template: RowTemplate, fx: Fixture): Promise<void> {
  // The schema, and the store's record of the vault keys it is built with (the
  // service's startup check claims it), before the synthetic rows go in.
  const starter = createTokenService(fx.config, openSqliteStore(dbPath));
  await starter.ready();
  await starter.close();
  const db = new Database(dbPath);
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const insertToken = db.prepare(
      `INSERT INTO tokens (token_reference_id, token_number_hash, sealed_token_number, token_last4, expiry_month, expiry_year, status,
         issuer_id, wallet_provider_id, wallet_account_id, device_id, network, created_at, updated_at)
       VALUES (?, ?, ?, '1234', 12, 2030, 'active', 'bank-bench', ?, ?, ?, 'visa', ?, ?)`,
    );
    const insertVault = db.prepare(
      `INSERT INTO vault (token_reference_id, pan_fingerprint, wallet_provider_id, wallet_account_id, device_id, sealed_card, pan_last4, created_at)
       VALUES (?, ?, ?, ?, ?, ?, '1111', ?)`,
    );
    const batch = 50_000;
    const now = Date.now();
    const fill = db.transaction((from: number, to: number) => {
      const random = randomBytes((to - from) * 80);
      for (let i = from; i < to; i++) {
        const o = (i - from) * 80;
        const ref = `tok_${random.subarray(o, o + 16).toString('base64url')}`;
        const account = `user-${i % 100_000}`;
        const device = `dev-${i.toString(36)}`;
        insertToken.run(ref, random.subarray(o + 16, o + 48).toString('hex'), template.sealedTokenNumber, WALLET_PROVIDER_ID, account, device, now, now);
        insertVault.run(ref, random.subarray(o + 48, o + 80).toString('hex'), WALLET_PROVIDER_ID, account, device, template.sealedCard, now);
      }
    });
    for (let from = 0; from < count; from += batch) fill(from, Math.min(count, from + batch));
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  // The fill ran without fsync: put its pages on disk now, or the kernel writes them back
  // during the measured rounds, and the service's own syncs wait behind them (p99 of 300 ms).
  const fd = openSync(dbPath, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Section 6a: growth. The same in-process submissions (SQLite, synchronous
 * NORMAL so the per-commit fsync does not hide the store's own cost, many in
 * flight) with a small and a large number of tokens already in the vault.
 */
export async function runGrowth(
  fx: Fixture,
  params: BenchParams,
  floor: Task,
  tempPath: (name: string) => string,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const template = await realTemplate(fx);
  const rows: BenchRow[] = [];
  for (const size of [params.growthSmall, params.growthLarge]) {
    const name = size >= 1_000_000 ? `${size / 1_000_000}m` : `${size / 1000}k`;
    const dbPath = tempPath(`growth-${name}.db`);
    const t0 = performance.now();
    await prefillVault(dbPath, size, template, fx);
    const prefillSeconds = (performance.now() - t0) / 1000;
    log(`  prefilled ${size} tokens in ${prefillSeconds.toFixed(1)} s`);
    const service = createTokenService(fx.config, openSqliteStore(dbPath, { synchronous: 'NORMAL' }));
    try {
      const warmup = Math.min(params.warmup, 100);
      const [row] = await measureService(
        fx,
        service,
        { ...params, warmup },
        floor,
        { key: `tokens-${name}`, label: `growth: ${size.toLocaleString('en')} tokens stored, SQLite NORMAL`, section: 'growth' },
        [[params.manyInFlight, params.growthRequests]],
      );
      const stored = await service.store.tokens.count();
      row!.extra = { ...row!.extra, tokensBefore: size, warmupRequests: warmup, tokensAfter: stored, prefillSeconds: round(prefillSeconds, 1), dbFileMb: round(statSync(dbPath).size / 2 ** 20, 1) };
      rows.push(row!);
    } finally {
      await service.close();
    }
  }
  return rows;
}
