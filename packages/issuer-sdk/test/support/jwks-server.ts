import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jwks } from '@pushprov/protocol';

/** A JWK set server on 127.0.0.1 whose keys can be rotated, counting requests. */
export interface JwksServer {
  url: string;
  hits: number;
  setKeys(jwks: Jwks): void;
  setBody(status: number, body: string, contentType?: string): void;
  close(): Promise<void>;
}

export async function startJwksServer(initial: Jwks): Promise<JwksServer> {
  let status = 200;
  let body = JSON.stringify(initial);
  let contentType = 'application/jwk-set+json';
  const state = { hits: 0 };
  const server: Server = createServer((req, res) => {
    state.hits++;
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get hits() {
      return state.hits;
    },
    setKeys(jwks) {
      status = 200;
      body = JSON.stringify(jwks);
      contentType = 'application/jwk-set+json';
    },
    setBody(s, b, type = 'application/json') {
      status = s;
      body = b;
      contentType = type;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening: bind one, then close it. */
export async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
