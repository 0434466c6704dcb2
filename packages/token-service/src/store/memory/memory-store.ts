import { InternalError } from '@pushprov/protocol';
import { sealedKeyId } from '../../vault/vault-cipher.js';
import { checkHit, hitOutcome } from '../rate-limits.js';
import { checkKey, checkListLimit } from '../sealed.js';
import { createMemoryDeliveries } from './memory-deliveries.js';
import { type ChangeInput, checkFeed, eventBody, newEventId, receiversOf } from '../outbox.js';
import { checkLiveQuery, compareLive, isLiveToken } from '../live-tokens.js';
import type {
  CommitInput,
  CommitOutcome,
  IdempotencyBeginOutcome,
  IdempotencyRecord,
  LifecycleTransitionOutcome,
  LiveToken,
  OutboxDelivery,
  ReplayRecord,
  StoredEvent,
  TokenHistoryRecord,
  SealedTable,
  SealedValue,
  TokenRecord,
  TokenServiceStore,
  VaultRecord,
  VerificationActivateOutcome,
  VerificationCodeRecord,
} from '../types.js';

/** A request in progress: which attempt holds the key, until when. */
interface PendingEntry {
  leaseId: string;
  requestHash: string;
  leaseExpiresAt: number;
}

const provisionedKey = (v: Pick<VaultRecord, 'panFingerprint' | 'walletProviderId' | 'walletAccountId' | 'deviceId'>): string =>
  JSON.stringify([v.panFingerprint, v.walletProviderId, v.walletAccountId, v.deviceId]);
const idempotencyKey = (scope: string, key: string): string => JSON.stringify([scope, key]);
const codeKey = (tokenReferenceId: string, methodId: string): string => JSON.stringify([tokenReferenceId, methodId]);

/** Lexicographic order of primary keys (as SQLite's binary collation orders ASCII keys). */
const compareKeys = (a: readonly string[], b: readonly string[]): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

/**
 * An in-memory {@link TokenServiceStore} for tests and demos, for one
 * process. Every operation is atomic (checked fully before anything is
 * written, with no `await` in between); nothing survives the process. Records are copied in and out, so
 * callers cannot alter stored state by mutating what they hold.
 *
 * @example
 * ```ts
 * const service = createTokenService(config, createMemoryStore());
 * ```
 */
export function createMemoryStore(): TokenServiceStore {
  const tokens = new Map<string, TokenRecord>();
  const tokenHashes = new Set<string>();
  const vault = new Map<string, VaultRecord>();
  const provisioned = new Map<string, string>();
  const replay = new Map<string, ReplayRecord>();
  const idempotency = new Map<string, IdempotencyRecord>();
  const pendingIdempotency = new Map<string, PendingEntry>();
  const meta = new Map<string, string>();
  const limits = new Map<string, { windowStart: number; count: number; expiresAt: number }>();
  const codes = new Map<string, VerificationCodeRecord>();
  // The lifecycle: history per token, the outbox (events in order, deliveries by event and receiver), each token's event count.
  const history = new Map<string, TokenHistoryRecord[]>();
  const events: StoredEvent[] = [];
  const deliveries = new Map<string, OutboxDelivery>();
  const eventCounts = new Map<string, number>();
  let lastSeq = 0;
  let closed = false;

  /** Records one change of a token: its history row, its event and the two deliveries (spec section 12.5). */
  const recordChange = (token: TokenRecord, change: ChangeInput): { eventId: string; sequence: number } => {
    const sequence = (eventCounts.get(token.tokenReferenceId) ?? 0) + 1;
    eventCounts.set(token.tokenReferenceId, sequence);
    const eventId = newEventId();
    const rows = history.get(token.tokenReferenceId) ?? [];
    rows.push({ tokenReferenceId: token.tokenReferenceId, from: change.from, to: change.to, actor: change.actor, reason: change.reason, at: change.nowMs });
    history.set(token.tokenReferenceId, rows);
    const body = eventBody(token, change, eventId, sequence);
    events.push({
      seq: ++lastSeq,
      eventId,
      tokenReferenceId: token.tokenReferenceId,
      issuerId: token.issuerId,
      walletProviderId: token.walletProviderId,
      type: change.type,
      sequence,
      body,
      createdAt: change.nowMs,
    });
    for (const receiver of receiversOf(token)) {
      deliveries.set(JSON.stringify([eventId, receiver]), {
        eventId,
        receiver,
        tokenReferenceId: token.tokenReferenceId,
        sequence,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: change.nowMs,
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
        firstAttemptAt: null,
        deliveredAt: null,
      });
    }
    return { eventId, sequence };
  };
  /** What leaves with a deleted token: its token number, its vault entry (the sealed card), its codes. */
  const dropDeleted = (token: TokenRecord): void => {
    token.sealedTokenNumber = null;
    const entry = vault.get(token.tokenReferenceId);
    if (entry && provisioned.get(provisionedKey(entry)) === token.tokenReferenceId) provisioned.delete(provisionedKey(entry));
    vault.delete(token.tokenReferenceId);
    dropCodes(token.tokenReferenceId);
  };
  const copyEvent = (e: StoredEvent): StoredEvent => ({ ...e, body: { ...e.body } });

  /** Removes every verification code of a token. */
  const dropCodes = (tokenReferenceId: string): void => {
    for (const [key, code] of codes) if (code.tokenReferenceId === tokenReferenceId) codes.delete(key);
  };
  /** True when the token is pending and its pending time is not over at `nowMs`. */
  const isPending = (token: TokenRecord | undefined, nowMs: number): token is TokenRecord =>
    token !== undefined && token.status === 'pending_activation' && (token.verification === undefined || token.verification.expiresAt > nowMs);
  /** Deletes a pending token whose time is over: status `deleted`, token number, vault entry and codes removed, the change recorded. */
  const deletePending = (token: TokenRecord, nowMs: number): void => {
    token.status = 'deleted';
    token.updatedAt = nowMs;
    dropDeleted(token);
    recordChange(token, { from: 'pending_activation', to: 'deleted', type: 'token.deleted', actor: 'token_service', reason: 'activation_expired', nowMs });
  };

  /** A sealed table's rows as (primary key, sealed value, setter). */
  const sealedRows = (table: SealedTable): { key: string[]; sealed: string; set: (to: string) => void }[] => {
    if (table === 'vault') return [...vault.values()].map((v) => ({ key: [v.tokenReferenceId], sealed: v.sealedCard, set: (to) => (v.sealedCard = to) }));
    if (table === 'tokens') {
      // A deleted token's number is gone: nothing sealed to rotate.
      return [...tokens.values()].flatMap((t) => (t.sealedTokenNumber === null ? [] : [{ key: [t.tokenReferenceId], sealed: t.sealedTokenNumber, set: (to: string) => (t.sealedTokenNumber = to) }]));
    }
    return [...idempotency.values()].map((r) => ({ key: [r.scope, r.key], sealed: r.sealedResponse, set: (to) => (r.sealedResponse = to) }));
  };

  const open = (): void => {
    if (closed) throw new InternalError('internal_error', 'The store is closed');
  };
  // Records hold primitives only, except a token's expiry: spreading copies them fully, far
  // cheaper than a structured clone.
  const copy = <T extends object>(value: T | undefined): T | undefined => (value === undefined ? undefined : { ...value });
  const copyToken = (value: TokenRecord | undefined): TokenRecord | undefined =>
    value === undefined
      ? undefined
      : {
          ...value,
          tokenExpiry: { ...value.tokenExpiry },
          ...(value.verification === undefined ? {} : { verification: structuredClone(value.verification) }),
        };

  return {
    tokens: {
      async find(tokenReferenceId) {
        open();
        return copyToken(tokens.get(tokenReferenceId));
      },
      async count() {
        open();
        return tokens.size;
      },
      async findLive(query) {
        open();
        const { walletProviderId, walletAccountId, issuerId, accountIds, nowMs, limit } = checkLiveQuery(query);
        const wanted = new Set(accountIds);
        const started = new Set([...codes.values()].map((c) => c.tokenReferenceId));
        const found: LiveToken[] = [];
        for (const t of tokens.values()) {
          if (t.walletProviderId !== walletProviderId || t.walletAccountId !== walletAccountId || t.issuerId !== issuerId) continue;
          if (t.accountId === undefined || !wanted.has(t.accountId) || t.status === 'deleted' || !isLiveToken(t, nowMs)) continue;
          found.push({
            tokenReferenceId: t.tokenReferenceId,
            accountId: t.accountId,
            deviceId: t.deviceId,
            status: t.status,
            tokenExpiry: { ...t.tokenExpiry },
            createdAt: t.createdAt,
            activationStarted: t.status === 'pending_activation' && started.has(t.tokenReferenceId),
          });
        }
        return found.sort(compareLive).slice(0, limit);
      },
    },
    vault: {
      async findProvisioned(query) {
        open();
        const ref = provisioned.get(provisionedKey(query));
        return ref === undefined ? undefined : copy(vault.get(ref));
      },
      async find(tokenReferenceId) {
        open();
        return copy(vault.get(tokenReferenceId));
      },
      async count() {
        open();
        return vault.size;
      },
    },
    replay: {
      async has(key) {
        open();
        return replay.has(key);
      },
      async claim(record) {
        open();
        if (replay.has(record.key)) return false;
        replay.set(record.key, copy(record)!);
        return true;
      },
      async count() {
        open();
        return replay.size;
      },
    },
    idempotency: {
      async begin(input): Promise<IdempotencyBeginOutcome> {
        open();
        const slot = idempotencyKey(input.scope, input.key);
        const done = idempotency.get(slot);
        if (done && done.expiresAt > input.nowMs) {
          return done.requestHash === input.requestHash ? { state: 'stored', record: copy(done)! } : { state: 'mismatch' };
        }
        const pending = pendingIdempotency.get(slot);
        if (pending && pending.leaseExpiresAt > input.nowMs) return { state: 'in_flight' };
        if (done) idempotency.delete(slot);
        pendingIdempotency.set(slot, { leaseId: input.leaseId, requestHash: input.requestHash, leaseExpiresAt: input.nowMs + input.leaseMs });
        return { state: 'started' };
      },
      async release(scope, key, leaseId) {
        open();
        const slot = idempotencyKey(scope, key);
        if (pendingIdempotency.get(slot)?.leaseId === leaseId) pendingIdempotency.delete(slot);
      },
      async find(scope, key) {
        open();
        return copy(idempotency.get(idempotencyKey(scope, key)));
      },
      async count() {
        open();
        return idempotency.size;
      },
    },
    meta: {
      async get(name) {
        open();
        return meta.get(name);
      },
      async claim(name, value) {
        open();
        if (!meta.has(name)) meta.set(name, value);
        return meta.get(name)!;
      },
    },
    sealed: {
      async list(table, options): Promise<SealedValue[]> {
        open();
        const limit = checkListLimit(options.limit);
        const after = options.after === undefined ? undefined : checkKey(table, options.after);
        return sealedRows(table)
          .filter((r) => (after === undefined || compareKeys(r.key, after) > 0) && (options.excludeKeyId === undefined || sealedKeyId(r.sealed) !== options.excludeKeyId))
          .sort((a, b) => compareKeys(a.key, b.key))
          .slice(0, limit)
          .map(({ key, sealed }) => ({ key, sealed }));
      },
      async replace(table, updates) {
        open();
        for (const u of updates) checkKey(table, u.key);
        const rows = new Map(sealedRows(table).map((r) => [JSON.stringify(r.key), r]));
        let written = 0;
        for (const u of updates) {
          const row = rows.get(JSON.stringify(u.key));
          if (row && row.sealed === u.from) {
            row.set(u.to);
            row.sealed = u.to;
            written++;
          }
        }
        return written;
      },
      async countByKeyId(table) {
        open();
        const counts: Record<string, number> = {};
        for (const r of sealedRows(table)) {
          const id = sealedKeyId(r.sealed);
          counts[id] = (counts[id] ?? 0) + 1;
        }
        return counts;
      },
      async keyIds(table) {
        open();
        return [...new Set(sealedRows(table).map((r) => sealedKeyId(r.sealed)))].sort();
      },
    },
    limits: {
      async hit(input) {
        open();
        const hit = checkHit(input);
        const row = limits.get(hit.key);
        if (row === undefined || row.windowStart < hit.windowStart) {
          limits.set(hit.key, { windowStart: hit.windowStart, count: 1, expiresAt: hit.windowEnd });
          return hitOutcome(hit, 1, hit.windowStart);
        }
        row.count = Math.min(row.count + 1, hit.limit + 1);
        row.expiresAt = Math.max(row.expiresAt, hit.windowEnd);
        return hitOutcome(hit, row.count, row.windowStart);
      },
    },
    verification: {
      async issue(input) {
        open();
        const token = tokens.get(input.tokenReferenceId);
        if (!isPending(token, input.nowMs)) return { ok: false, reason: 'not_pending' };
        const slot = codeKey(input.tokenReferenceId, input.methodId);
        const current = codes.get(slot);
        if (current && current.attempts >= input.maxAttempts) return { ok: false, reason: 'locked' };
        if (current && current.resendAfter > input.nowMs) return { ok: false, reason: 'cooldown', resendAfter: current.resendAfter };
        const attempts = current?.attempts ?? 0;
        codes.set(slot, {
          tokenReferenceId: input.tokenReferenceId,
          methodId: input.methodId,
          codeHash: input.codeHash,
          codeExpiresAt: input.codeExpiresAt,
          resendAfter: input.resendAfter,
          attempts,
        });
        return { ok: true, attempts };
      },
      async attempt(input) {
        open();
        const code = codes.get(codeKey(input.tokenReferenceId, input.methodId));
        if (!code) return { ok: false, reason: 'no_code' };
        if (code.attempts >= input.maxAttempts) return { ok: false, reason: 'locked' };
        code.attempts++;
        return { ok: true, attempts: code.attempts, codeHash: code.codeHash, codeExpiresAt: code.codeExpiresAt };
      },
      async activate(input): Promise<VerificationActivateOutcome> {
        open();
        const idem = input.idempotency;
        const slot = idem === undefined ? undefined : idempotencyKey(idem.scope, idem.key);
        if (idem && slot) {
          if (idempotency.has(slot)) return { ok: false, conflict: 'idempotency' };
          const pending = pendingIdempotency.get(slot);
          if (pending !== undefined && pending.leaseId !== idem.leaseId) return { ok: false, conflict: 'idempotency' };
        }
        const token = tokens.get(input.tokenReferenceId);
        if (!isPending(token, input.nowMs)) return { ok: false, conflict: 'not_pending' };
        if (input.code) {
          const code = codes.get(codeKey(input.tokenReferenceId, input.code.methodId));
          if (!code || code.codeHash !== input.code.codeHash) return { ok: false, conflict: 'code' };
        }
        token.status = 'active';
        token.updatedAt = input.nowMs;
        dropCodes(input.tokenReferenceId);
        // A code typed in the wallet is the cardholder's doing; without one, the issuer verified them.
        recordChange(token, {
          from: 'pending_activation',
          to: 'active',
          type: 'token.activated',
          actor: input.code ? 'cardholder' : 'issuer',
          reason: 'identity_verified',
          nowMs: input.nowMs,
        });
        if (idem && slot) {
          const { leaseId: _lease, ...record } = idem;
          pendingIdempotency.delete(slot);
          idempotency.set(slot, record);
        }
        return { ok: true };
      },
      async find(tokenReferenceId, methodId) {
        open();
        return copy(codes.get(codeKey(tokenReferenceId, methodId)));
      },
      async expirePending(input) {
        open();
        const candidates = input.tokenReferenceId === undefined ? [...tokens.values()] : [tokens.get(input.tokenReferenceId)];
        let deleted = 0;
        for (const token of candidates) {
          if (token && token.status === 'pending_activation' && token.verification !== undefined && token.verification.expiresAt <= input.nowMs) {
            deletePending(token, input.nowMs);
            deleted++;
          }
        }
        return deleted;
      },
      async count() {
        open();
        return codes.size;
      },
    },
    deliveries: createMemoryDeliveries(
      {
        deliveries: () => deliveries.values(),
        delivery: (eventId, receiver) => deliveries.get(JSON.stringify([eventId, receiver])),
        eventBody: (eventId) => events.find((e) => e.eventId === eventId)?.body,
      },
      open,
    ),
    lifecycle: {
      async transition(input): Promise<LifecycleTransitionOutcome> {
        open();
        const idem = input.idempotency;
        const slot = idem === undefined ? undefined : idempotencyKey(idem.scope, idem.key);
        if (idem && slot) {
          if (idempotency.has(slot)) return { ok: false, conflict: 'idempotency' };
          const pending = pendingIdempotency.get(slot);
          if (pending !== undefined && pending.leaseId !== idem.leaseId) return { ok: false, conflict: 'idempotency' };
        }
        const token = tokens.get(input.tokenReferenceId);
        if (!token) return { ok: false, conflict: 'not_found' };
        if (!input.from.includes(token.status)) return { ok: false, conflict: 'state', status: token.status };
        const entry = vault.get(token.tokenReferenceId);
        if (input.sealedCard && (!entry || entry.sealedCard !== input.sealedCard.from)) return { ok: false, conflict: 'card' };
        const from = token.status;
        const to = input.to ?? from;
        if (input.sealedCard && entry) entry.sealedCard = input.sealedCard.to;
        token.status = to;
        token.updatedAt = input.nowMs;
        if (to === 'deleted') dropDeleted(token);
        const { eventId, sequence } = recordChange(token, { from, to, type: input.type, actor: input.actor, reason: input.reason, nowMs: input.nowMs });
        if (idem && slot) {
          const { leaseId: _lease, ...rest } = idem;
          pendingIdempotency.delete(slot);
          idempotency.set(slot, rest);
        }
        return { ok: true, previousStatus: from, status: to, eventId, sequence };
      },
      async history(tokenReferenceId) {
        open();
        return (history.get(tokenReferenceId) ?? []).map((h) => ({ ...h }));
      },
      async findByAccount(issuerId, accountId) {
        open();
        return [...tokens.values()]
          .filter((t) => t.issuerId === issuerId && t.accountId === accountId)
          .sort((a, b) => b.createdAt - a.createdAt)
          .slice(0, 1000)
          .map((t) => copyToken(t)!);
      },
      async findByCard(issuerId, panFingerprint) {
        open();
        return [...vault.values()]
          .filter((v) => v.panFingerprint === panFingerprint)
          .map((v) => tokens.get(v.tokenReferenceId))
          .filter((t): t is TokenRecord => t !== undefined && t.issuerId === issuerId)
          .sort((a, b) => b.createdAt - a.createdAt)
          .slice(0, 1000)
          .map((t) => copyToken(t)!);
      },
    },
    events: {
      async feed(input) {
        open();
        const { party, after, limit } = checkFeed(input);
        const [kind, id] = [party.slice(0, party.indexOf(':')), party.slice(party.indexOf(':') + 1)];
        return events
          .filter((e) => e.seq > after && (kind === 'issuer' ? e.issuerId === id : e.walletProviderId === id))
          .slice(0, limit)
          .map(copyEvent);
      },
      async ofToken(tokenReferenceId) {
        open();
        return events.filter((e) => e.tokenReferenceId === tokenReferenceId).map(copyEvent);
      },
      async deliveriesOf(eventId) {
        open();
        return [...deliveries.values()].filter((d) => d.eventId === eventId).map((d) => ({ ...d }));
      },
      async count() {
        open();
        return events.length;
      },
    },
    async commit(input: CommitInput): Promise<CommitOutcome> {
      open();
      // Check every constraint first; write only when all pass.
      const slot = idempotencyKey(input.idempotency.scope, input.idempotency.key);
      if (idempotency.has(slot)) return { ok: false, conflict: 'idempotency' };
      const pending = pendingIdempotency.get(slot);
      if (pending !== undefined && pending.leaseId !== input.idempotency.leaseId) return { ok: false, conflict: 'idempotency' };
      const replayKeys = new Set<string>();
      for (const r of input.replay) {
        if (replay.has(r.key) || replayKeys.has(r.key)) return { ok: false, conflict: 'replay' };
        replayKeys.add(r.key);
      }
      const issuance = input.issuance;
      if (issuance) {
        const { token, vault: entry } = issuance;
        if (entry.tokenReferenceId !== token.tokenReferenceId) throw new InternalError('internal_error', 'Vault entry and token differ');
        if (tokens.has(token.tokenReferenceId)) throw new InternalError('internal_error', 'Duplicate token reference id');
        if (tokenHashes.has(token.tokenNumberHash)) return { ok: false, conflict: 'token_number' };
        const existing = provisioned.get(provisionedKey(entry));
        if (existing !== undefined && existing !== issuance.replaces) return { ok: false, conflict: 'already_provisioned', tokenReferenceId: existing };
      }
      const { leaseId: _lease, ...record } = input.idempotency;
      pendingIdempotency.delete(slot);
      idempotency.set(slot, record);
      for (const r of input.replay) replay.set(r.key, copy(r)!);
      if (issuance) {
        const replaced = issuance.replaces === undefined ? undefined : tokens.get(issuance.replaces);
        if (replaced) {
          const from = replaced.status;
          replaced.status = 'deleted';
          replaced.updatedAt = issuance.token.createdAt;
          dropDeleted(replaced);
          if (from !== 'deleted') {
            recordChange(replaced, { from, to: 'deleted', type: 'token.deleted', actor: 'token_service', reason: 'other', nowMs: issuance.token.createdAt });
          }
        }
        const created = copyToken(issuance.token)!;
        tokens.set(issuance.token.tokenReferenceId, created);
        recordChange(created, { from: null, to: created.status, type: 'token.created', actor: 'wallet_provider', reason: 'customer_request', nowMs: created.createdAt });
        tokenHashes.add(issuance.token.tokenNumberHash);
        vault.set(issuance.vault.tokenReferenceId, copy(issuance.vault)!);
        provisioned.set(provisionedKey(issuance.vault), issuance.vault.tokenReferenceId);
      }
      return { ok: true };
    },
    async refuse(input) {
      open();
      for (const r of input.replay) if (!replay.has(r.key)) replay.set(r.key, copy(r)!);
      const slot = idempotencyKey(input.idempotency.scope, input.idempotency.key);
      if (pendingIdempotency.get(slot)?.leaseId === input.idempotency.leaseId) pendingIdempotency.delete(slot);
    },
    async ping() {
      open();
    },
    async purgeExpired(nowMs) {
      open();
      let replayRemoved = 0;
      let idempotencyRemoved = 0;
      for (const [key, r] of replay) {
        if (r.expiresAt <= nowMs) {
          replay.delete(key);
          replayRemoved++;
        }
      }
      for (const [key, r] of idempotency) {
        if (r.expiresAt <= nowMs) {
          idempotency.delete(key);
          idempotencyRemoved++;
        }
      }
      for (const [key, p] of pendingIdempotency) {
        if (p.leaseExpiresAt <= nowMs) {
          pendingIdempotency.delete(key);
          idempotencyRemoved++;
        }
      }
      let limitsRemoved = 0;
      for (const [key, row] of limits) {
        if (row.expiresAt <= nowMs) {
          limits.delete(key);
          limitsRemoved++;
        }
      }
      return { replay: replayRemoved, idempotency: idempotencyRemoved, limits: limitsRemoved };
    },
    async close() {
      closed = true;
    },
  };
}
