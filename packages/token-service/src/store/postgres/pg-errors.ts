// How the PostgreSQL store reports node-postgres failures: an InternalError
// of ours, with the driver's error only as `cause` (its message may hold
// values, so none of it goes into ours).
import { loadPg } from '../load-driver.js';
import { InternalError } from '@pushprov/protocol';

/** SQLSTATEs after which running the same statement again may succeed at once. */
const RETRY_AT_ONCE = new Set(['40001', '40P01']);

/**
 * SQLSTATEs that mean the database cannot serve now: connection exceptions
 * (class 08), shutdowns and a server that does not accept connections yet
 * (57P01..57P03), a statement cancelled by `statement_timeout` (57014),
 * insufficient resources (class 53: disk full, out of memory, too many
 * connections), a read-only server (25006: a standby after a failover),
 * a lock not available in time (55P03), a retry of 40001/40P01 that failed again.
 */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '57P04', '57P05', '57014', '25006', '55P03', '40001', '40P01']);
const UNAVAILABLE_CLASSES = new Set(['08', '53', '58']);

/** Programming errors raised by the store's own functions, and what we say of them. */
const OWN_FAILURES: Record<string, string> = {
  PP001: 'Vault entry and token differ',
  PP002: 'Duplicate token reference id',
  PP003: 'The commit has no idempotency scope, key or lease',
};

/**
 * The SQLSTATE of an error the server sent (an ErrorResponse), or undefined
 * for any other failure. Duck-typed as well as by class, so that a second
 * copy of node-postgres in the process is still understood.
 */
export function sqlState(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  // Only errors of the store reach here, so node-postgres is loaded already.
  return typeof severity === 'string' || error instanceof loadPg().DatabaseError ? code : undefined;
}

/** True for a failure after which running the same statement again may succeed (serialisation, deadlock). */
export function retryAtOnce(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && RETRY_AT_ONCE.has(code);
}

/**
 * True when the failure says the database cannot be reached or cannot serve
 * now. Every failure that does not come from the server as an SQL error is
 * one: connection refused, reset or lost, DNS, the pool's or the client's
 * connection timeout ("timeout exceeded when trying to connect"), a client
 * that lost its connection ("Connection terminated unexpectedly").
 */
export function isUnavailable(error: unknown): boolean {
  const code = sqlState(error);
  if (code === undefined) return true;
  return UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CLASSES.has(code.slice(0, 2));
}

/** SQLSTATEs that, when opening the store, mean the connection settings are wrong (authentication, no such database or role). */
export function isConfigurationFailure(error: unknown): boolean {
  const code = sqlState(error) ?? '';
  return code.startsWith('28') || code === '3D000' || code === '42501';
}

/**
 * Our error for a failure of `what` (e.g. "the commit"): `store_unavailable`
 * when the database cannot serve (the caller may retry, with the same
 * idempotency key), `internal_error` otherwise.
 */
export function storeError(error: unknown, what: string): InternalError {
  if (error instanceof InternalError) return error;
  const code = sqlState(error);
  const own = code === undefined ? undefined : OWN_FAILURES[code];
  if (own !== undefined) return new InternalError('internal_error', own, { cause: error });
  if (isUnavailable(error)) return new InternalError('store_unavailable', `The PostgreSQL store did not answer (${what})`, { cause: error });
  return new InternalError('internal_error', `The PostgreSQL store failed (${what})`, { cause: error });
}
