/**
 * A token service double served over real HTTP on 127.0.0.1 (node:http, port
 * 0), built only on the protocol package. It follows the token service API
 * contract: authenticates the wallet provider (API key or client assertion),
 * requires an Idempotency-Key, opens the request with `openProvisioningRequest`,
 * checks the binding with `checkBinding` and `checkDeviceKeyBinding`, refuses replayed jtis, issues one
 * token per request, encrypts the access data to the device key when one was
 * submitted, and answers errors as RFC 9457 problem details.
 *
 * Faults can be queued to make it fail in the ways real servers fail.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AccessData,
  type Clock,
  type ErrorCode,
  type JwkPair,
  type Jwks,
  type ProvisioningResponse,
  ERROR_CATALOG,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPE_BASE,
  checkBinding,
  checkDeviceKeyBinding,
  createError,
  encryptAccessData,
  epochSeconds,
  luhnCheckDigit,
  openProvisioningRequest,
  parseSubmission,
  sha256Hex,
  toProvisioningError,
  verifyClientAssertion,
} from '@pushprov/protocol';
import { peekClientAssertionIssuer } from '@pushprov/protocol/internal';

/** A fault the double injects into the next POST. */
export type Fault =
  /** Answer this status (with a problem body of `code`) without processing the request. */
  | { kind: 'before'; status: number; code: ErrorCode; retryAfter?: string; plainBody?: string }
  /** Process the request (issue the token), then answer this status: the answer is "lost". */
  | { kind: 'after'; status: number; code: ErrorCode }
  /** Never answer (until the client gives up or the server closes). */
  | { kind: 'hang' }
  /** Destroy the connection without answering. */
  | { kind: 'destroy' };

export interface TokenServiceDoubleOptions {
  audience: string;
  /** The service's encryption key pair (private half decrypts requests). */
  serviceKey: JwkPair;
  /** Issuer signing keys by issuer id. */
  issuers: Record<string, Jwks>;
  /** API keys → wallet provider id. */
  apiKeys?: Record<string, string>;
  /** Wallet provider signing keys by provider id (client assertions). */
  providers?: Record<string, Jwks>;
  clock: Clock;
  /** Token status to issue. Default 'active'. */
  tokenStatus?: 'active' | 'pending_activation';
  /**
   * Changes the access data before it is sent (a misbehaving or compromised
   * token service: another card's last 4, another issuer). Default none.
   */
  alterAccessData?: (accessData: AccessData) => AccessData;
}

export interface Call {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
  status: number;
}

export interface IssuedToken {
  tokenReferenceId: string;
  tokenNumber: string;
  idempotencyKey: string;
  encrypted: boolean;
}

export interface TokenServiceDouble {
  url: string;
  calls: Call[];
  issued: IssuedToken[];
  faults: Fault[];
  /** Everything the double logged (it logs like a real service: ids and codes only). */
  log: string[];
  close(): Promise<void>;
}

const problem = (res: ServerResponse, code: ErrorCode, requestId: string, status = ERROR_CATALOG[code].status, retryAfter?: string) => {
  const body = {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: ERROR_CATALOG[code].title,
    status,
    code,
    retryable: ERROR_CATALOG[code].retryable,
    requestId,
  };
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  res.writeHead(status, headers).end(JSON.stringify(body));
  return status;
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export async function startTokenServiceDouble(options: TokenServiceDoubleOptions): Promise<TokenServiceDouble> {
  const calls: Call[] = [];
  const issued: IssuedToken[] = [];
  const faults: Fault[] = [];
  const log: string[] = [];
  const byKey = new Map<string, { bodyHash: string; response: ProvisioningResponse }>();
  const seenJtis = new Set<string>();
  const seenAssertions = new Set<string>();
  const hanging = new Set<ServerResponse>();
  const tokens = new Map<string, { accessData: AccessData; walletProviderId: string }>();
  let requestCounter = 0;
  let tokenCounter = 0;

  async function authenticate(header: string | undefined): Promise<string> {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) throw createError('unauthenticated');
    const byApiKey = options.apiKeys?.[token];
    if (byApiKey) return byApiKey;
    const provider = peekClientAssertionIssuer(token);
    const keys = provider === undefined ? undefined : options.providers?.[provider];
    if (!provider || !keys) throw createError('unauthenticated');
    const verified = await verifyClientAssertion(token, { walletProviderId: provider, keys, audience: options.audience, clock: options.clock });
    if (seenAssertions.has(verified.jti)) throw createError('unauthenticated', 'Client assertion replayed');
    seenAssertions.add(verified.jti);
    return verified.walletProviderId;
  }

  async function provision(body: string, walletProviderId: string, idempotencyKey: string): Promise<ProvisioningResponse> {
    const submission = parseSubmission(body);
    const { claims } = await openProvisioningRequest(submission.encryptedRequest, {
      decryptionKeys: { keys: [options.serviceKey.privateJwk] },
      issuerKeys: (iss, kid) => options.issuers[iss]?.keys.find((k) => k.kid === kid),
      audience: options.audience,
      clock: options.clock,
    });
    if (seenJtis.has(claims.jti)) throw createError('replayed');
    checkBinding(claims, { ...submission, walletProviderId });
    await checkDeviceKeyBinding(claims, submission.devicePublicKey);
    seenJtis.add(claims.jti);
    tokenCounter += 1;
    const partial = `49000000${String(tokenCounter).padStart(7, '0')}`;
    const tokenNumber = partial + luhnCheckDigit(partial);
    const tokenReferenceId = `tok_${String(tokenCounter).padStart(4, '0')}`;
    const status = options.tokenStatus ?? 'active';
    const issuedAccessData: AccessData = {
      tokenReferenceId,
      tokenNumber,
      tokenExpiry: { month: 12, year: 2030 },
      status,
      panLast4: claims.card!.pan.slice(-4),
      issuerId: claims.iss,
      network: 'visa',
      issuedAt: epochSeconds(options.clock),
    };
    const accessData = options.alterAccessData ? options.alterAccessData(issuedAccessData) : issuedAccessData;
    tokens.set(tokenReferenceId, { accessData, walletProviderId });
    const verification = { methods: [{ id: 'sms-1', type: 'otp_sms' as const, destination: '\u2022\u2022\u2022\u2022 0199' }], expiresAt: epochSeconds(options.clock) + 604_800 };
    const base = {
      type: 'provisioning-response' as const,
      version: 1 as const,
      sessionId: submission.sessionId,
      tokenReferenceId,
      status,
      ...(status === 'pending_activation' && { verification }),
    };
    const encrypted = submission.devicePublicKey !== undefined;
    issued.push({ tokenReferenceId, tokenNumber, idempotencyKey, encrypted });
    log.push(`issued ${tokenReferenceId} for session ${submission.sessionId}`);
    return encrypted ? { ...base, encryptedAccessData: await encryptAccessData(accessData, submission.devicePublicKey!) } : { ...base, accessData };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    requestCounter += 1;
    const requestId = `req_${requestCounter}`;
    const path = req.url ?? '/';
    if (req.method === 'POST' && path === '/v1/provisioning-requests') {
      const body = await readBody(req);
      const fault = faults.shift();
      if (fault?.kind === 'hang') {
        hanging.add(res);
        return 0;
      }
      if (fault?.kind === 'destroy') {
        req.socket.destroy();
        return 0;
      }
      if (fault?.kind === 'before') {
        if (fault.plainBody !== undefined) {
          res.writeHead(fault.status, { 'content-type': 'text/plain' }).end(fault.plainBody);
          return fault.status;
        }
        return problem(res, fault.code, requestId, fault.status, fault.retryAfter);
      }
      if (!String(req.headers['content-type']).startsWith('application/json')) return problem(res, 'unsupported_media_type', requestId);
      const walletProviderId = await authenticate(req.headers.authorization);
      const idempotencyKey = req.headers['idempotency-key'];
      if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0) return problem(res, 'missing_idempotency_key', requestId);
      const bodyHash = sha256Hex(`${walletProviderId}\u0000${body}`);
      let stored = byKey.get(idempotencyKey);
      if (stored && stored.bodyHash !== bodyHash) return problem(res, 'idempotency_key_reused', requestId);
      if (!stored) {
        stored = { bodyHash, response: await provision(body, walletProviderId, idempotencyKey) };
        byKey.set(idempotencyKey, stored);
      }
      if (fault?.kind === 'after') return problem(res, fault.code, requestId, fault.status);
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': requestId }).end(JSON.stringify(stored.response));
      return 201;
    }
    const match = /^\/v1\/tokens\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && match) {
      const walletProviderId = await authenticate(req.headers.authorization);
      const token = tokens.get(decodeURIComponent(match[1]!));
      if (!token || token.walletProviderId !== walletProviderId) return problem(res, 'not_found', requestId);
      const body = {
        type: 'token-status',
        version: 1,
        tokenReferenceId: token.accessData.tokenReferenceId,
        status: token.accessData.status,
        tokenLast4: token.accessData.tokenNumber.slice(-4),
        tokenExpiry: token.accessData.tokenExpiry,
        updatedAt: token.accessData.issuedAt,
      };
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId }).end(JSON.stringify(body));
      return 200;
    }
    return problem(res, 'not_found', requestId);
  }

  const server: Server = createServer((req, res) => {
    const call: Call = {
      method: req.method ?? '',
      path: req.url ?? '',
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      status: 0,
    };
    calls.push(call);
    handle(req, res).then(
      (status) => {
        call.status = status;
      },
      (error: unknown) => {
        const e = toProvisioningError(error);
        log.push(`refused ${e.code}`);
        call.status = problem(res, e.code, `req_${requestCounter}`);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    issued,
    faults,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
