/**
 * The HTTP load generator, in its own process so that it does not share the
 * server's event loop: keep-alive connections (one per request in flight),
 * closed loop, latency of each request. Receives `run` over IPC and answers
 * `result`.
 */
import { Agent, request } from 'node:http';
import type { PreparedRequest } from '../lib/fixture.js';
import { type LoadResult, runClosedLoop } from '../lib/load.js';

interface RunMessage {
  type: 'run';
  url: string;
  apiKey: string;
  concurrency: number;
  requests: PreparedRequest[];
}

function post(agent: Agent, url: URL, apiKey: string, prepared: PreparedRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/provisioning-requests',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${apiKey}`,
          'idempotency-key': prepared.idempotencyKey,
          'content-length': Buffer.byteLength(prepared.body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode === 201) resolve();
          else reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(prepared.body);
  });
}

// One keep-alive agent per server: its connections stay open across the rounds of one line.
let current: { url: string; agent: Agent } | undefined;

process.on('message', async (message: RunMessage | { type: 'stop' }) => {
  if (message.type === 'stop') {
    current?.agent.destroy();
    process.exit(0);
  }
  try {
    if (current?.url !== message.url) {
      current?.agent.destroy();
      current = { url: message.url, agent: new Agent({ keepAlive: true, maxSockets: message.concurrency }) };
    }
    const { agent } = current;
    const url = new URL(message.url);
    const { requests } = message;
    const result: LoadResult = await runClosedLoop({
      count: requests.length,
      concurrency: message.concurrency,
      task: (i) => post(agent, url, message.apiKey, requests[i]!),
    });
    process.send?.({ type: 'result', result });
  } catch (error) {
    process.send?.({ type: 'error', message: String(error) });
  }
});
process.send?.({ type: 'ready' });
