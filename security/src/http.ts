/**
 * Plain HTTP helpers over loopback: every response is read whole (status,
 * headers, text), so tests can scan all of it.
 */
import { API_KEY } from './sandbox.js';

/** A response read whole. */
export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends a request and reads the whole answer. */
export async function send(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const response = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(15_000) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Options of {@link postSubmission}. */
export interface PostOptions {
  /** The API key (default the sandbox wallet's). Ignored when `authorization` is given. */
  apiKey?: string;
  /** The whole Authorization header; `null` leaves it out. */
  authorization?: string | null;
  /** The Idempotency-Key; `null` leaves it out. Default a fresh key. */
  idempotencyKey?: string | null;
  /** The Content-Type; `null` leaves it out. */
  contentType?: string | null;
  /** Extra headers. */
  headers?: Record<string, string>;
}

let keyCounter = 0;

/** A fresh idempotency key. */
export function freshIdempotencyKey(prefix = 'idem'): string {
  keyCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${keyCounter}`;
}

/** POSTs a body (an object is sent as JSON) to `/v1/provisioning-requests`. */
export function postSubmission(baseUrl: string, body: unknown, options: PostOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const authorization = options.authorization === undefined ? `Bearer ${options.apiKey ?? API_KEY}` : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  const idempotencyKey = options.idempotencyKey === undefined ? freshIdempotencyKey() : options.idempotencyKey;
  if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
  return send(`${baseUrl}/v1/provisioning-requests`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body),
  });
}

/** GETs a token's status. */
export function getTokenStatus(baseUrl: string, tokenReferenceId: string, authorization: string | null = `Bearer ${API_KEY}`): Promise<HttpResult> {
  return send(`${baseUrl}/v1/tokens/${tokenReferenceId}`, { headers: authorization === null ? {} : { authorization } });
}

/**
 * Sends raw bytes over a TCP connection to the server (what `fetch` would
 * refuse to send: malformed HTTP, huge headers, request smuggling) and parses
 * the answer. Bounded: gives up after `timeoutMs`.
 */
export async function sendRaw(baseUrl: string, request: string, timeoutMs = 5_000): Promise<HttpResult> {
  const { connect } = await import('node:net');
  const url = new URL(baseUrl);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer in time'));
    }, timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (out += chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on('error', () => undefined);
    socket.write(request, 'latin1');
  });
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text: Buffer.from(rest.join('\r\n\r\n'), 'latin1').toString('utf8') };
}
