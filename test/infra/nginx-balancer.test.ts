// The nginx balancer itself (scripts/lib/nginx-balancer.mjs): a real nginx in
// front of three tiny node:http servers.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBalancer, type Balancer } from '../../scripts/lib/nginx-balancer.mjs';

interface Instance {
  name: string;
  server: Server;
  address: string;
}

/** A server that answers its name, echoes X-Request-Id and the size of the body; /crash drops the connection, /hang never answers. */
async function startInstance(name: string): Promise<Instance> {
  const server = createServer((req, res) => {
    if (req.url === '/crash') {
      req.socket.destroy();
      return;
    }
    if (req.url === '/hang') return; // never answers
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      res.setHeader('x-request-id', req.headers['x-request-id'] ?? `${name}-generated`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, method: req.method, size }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { name, server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stopInstance(instance: Instance): Promise<void> {
  await new Promise<void>((resolve) => {
    instance.server.close(() => resolve());
    instance.server.closeAllConnections();
  });
}

/** PIDs of the running children of a process (the nginx workers of a master). */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return fields[0] !== 'Z' && Number(fields[1]) === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

const send = (url: string, init: RequestInit = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });

describe('the nginx balancer', () => {
  let instances: Instance[] = [];
  let balancer: Balancer;

  beforeAll(async () => {
    instances = await Promise.all(['a', 'b', 'c'].map(startInstance));
    // Both spellings of an upstream are accepted.
    balancer = await startBalancer({ upstreams: [`http://${instances[0]!.address}`, instances[1]!.address, `http://${instances[2]!.address}/`] });
  });
  afterAll(async () => {
    await balancer?.stop();
    await Promise.all(instances.map(stopInstance));
  });

  it('spreads requests round robin over all three, naming the one that answered in X-Upstream', async () => {
    expect(balancer.url).toBe(`http://127.0.0.1:${balancer.port}`);
    expect(balancer.upstreams).toEqual(instances.map((i) => i.address));
    const answeredBy: string[] = [];
    for (let i = 0; i < 9; i++) {
      const res = await send(`${balancer.url}/v1/ping`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { name: string };
      const upstream = res.headers.get('x-upstream');
      expect(upstream).toBe(instances.find((inst) => inst.name === body.name)!.address);
      answeredBy.push(body.name);
    }
    // Round robin: every window of three consecutive requests saw all three.
    for (let i = 0; i + 3 <= answeredBy.length; i++) expect(new Set(answeredBy.slice(i, i + 3)).size).toBe(3);
  });

  it("passes X-Request-Id and request bodies through, up to 1 MiB", async () => {
    const res = await send(`${balancer.url}/v1/echo`, { method: 'POST', headers: { 'x-request-id': 'req-123' }, body: 'x'.repeat(512 * 1024) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    expect(await res.json()).toMatchObject({ method: 'POST', size: 512 * 1024 });
    const generated = await send(`${balancer.url}/v1/echo`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[abc]-generated$/);
    const tooBig = await send(`${balancer.url}/v1/echo`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) });
    expect(tooBig.status).toBe(413);
    await tooBig.body?.cancel();
    const log = readFileSync(balancer.accessLog, 'utf8');
    expect(log).toMatch(/"POST \/v1\/echo HTTP\/1\.1" 200 .* upstream=127\.0\.0\.1:\d+ upstream_status=200 .* rid=req-123/);
  });

  it('with one instance stopped, every request is answered (by the others, or 502), none hangs', async () => {
    const [stopped, ...others] = instances as [Instance, Instance, Instance];
    await stopInstance(stopped);
    const statuses: number[] = [];
    const answeredBy = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await send(`${balancer.url}/v1/ping`, i % 2 ? { method: 'POST', body: '{}' } : {});
      statuses.push(res.status);
      if (res.status === 200) answeredBy.add(((await res.json()) as { name: string }).name);
      else await res.body?.cancel();
    }
    expect(statuses.every((s) => s === 200 || s === 502)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(answeredBy.has(stopped.name)).toBe(false);
    expect([...answeredBy].sort()).toEqual(others.map((o) => o.name).sort());
  });

  it('setUpstreams() rewrites the list and reloads: the new list is in force when it resolves', async () => {
    const pid = balancer.pid;
    const only = instances[1]!;
    await balancer.setUpstreams([only.address]);
    expect(balancer.pid).toBe(pid);
    expect(balancer.upstreams).toEqual([only.address]);
    for (let i = 0; i < 4; i++) {
      const res = await send(`${balancer.url}/v1/ping`);
      expect(res.headers.get('x-upstream')).toBe(only.address);
      expect(((await res.json()) as { name: string }).name).toBe(only.name);
    }
    await expect(balancer.setUpstreams([])).rejects.toThrow(/at least one upstream/);
  });
});

describe('an upstream that dies with the request', () => {
  it('a POST already sent is not repeated (502 from the one upstream); a GET moves on to the next ones', async () => {
    const instances = await Promise.all(['a', 'b', 'c'].map(startInstance));
    const balancer = await startBalancer({ upstreams: instances.map((i) => i.address) });
    try {
      const post = await send(`${balancer.url}/crash`, { method: 'POST', body: '{}' });
      expect(post.status).toBe(502);
      expect(post.headers.get('x-upstream')?.split(', ')).toHaveLength(1);
      await post.body?.cancel();
      const get = await send(`${balancer.url}/crash`);
      expect(get.status).toBe(502);
      // nginx moved on to the next upstream(s) before giving up
      expect(get.headers.get('x-upstream')?.split(', ').length).toBeGreaterThan(1);
      await get.body?.cancel();
    } finally {
      await balancer.stop();
      await Promise.all(instances.map(stopInstance));
    }
  });
});

describe('an upstream that never answers', () => {
  it('is answered 504 after readTimeoutMs, not left hanging', async () => {
    const instance = await startInstance('silent');
    const balancer = await startBalancer({ upstreams: [instance.address], readTimeoutMs: 300 });
    try {
      const started = Date.now();
      const res = await send(`${balancer.url}/hang`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(504);
      expect(res.headers.get('x-upstream')).toBe(instance.address);
      await res.body?.cancel();
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await balancer.stop();
      await stopInstance(instance);
    }
  });
});

describe('stop()', () => {
  it('leaves no nginx process and removes its folder', async () => {
    const instance = await startInstance('solo');
    const balancer = await startBalancer({ upstreams: [instance.address] });
    try {
      const workers = childrenOf(balancer.pid);
      expect(workers.length).toBeGreaterThan(0);
      expect(running(balancer.pid)).toBe(true);
      expect((await send(`${balancer.url}/`)).status).toBe(200);
      await balancer.stop();
      expect([balancer.pid, ...workers].filter(running)).toEqual([]);
      expect(existsSync(balancer.dir)).toBe(false);
      await expect(send(`${balancer.url}/`)).rejects.toThrow();
      await balancer.stop(); // twice: a no-op
    } finally {
      await balancer.stop();
      await stopInstance(instance);
    }
  });
});
