// The Prometheus endpoint scraped while a bounded load runs over real HTTP
// on 127.0.0.1 (issue 20: "I will scrape the metrics during a load and
// check their labels"): issued, declined, refused at the binding, not JSON,
// unauthenticated, rate limited, token reads of ids made of card numbers,
// unknown paths carrying card numbers. Every scrape: only the label names
// each metric declares, label values from closed sets (routes the app
// registered, protocol codes, step numbers, configured party ids), no run
// of 12 or more digits anywhere, so no card or token number; and a second
// round of the same load adds no series: the cardinality does not grow
// with the traffic.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, parseProvisioningResponse } from '@pushprov/protocol';
import { CANARY_PAN, findCanary } from '../../../security/src/canary.js';
import { PROVISIONING_STEPS, silentLogger } from '../src/index.js';
import { type RunningTokenServer, startTokenServer } from '../src/server.js';
import { API_KEY, CARD, type Fixture, OTHER_API_KEY, PAN, PAN_DECLINE, buildSubmission, createFixture, createIdentifiers, createTempDir, postSubmission } from './helpers.js';

const P = 'pushprov_token_service_';
/** The label names each of the service's own metrics may carry (`le` is the histograms' bucket). */
const LABELS: Record<string, readonly string[]> = {
  [`${P}http_requests_total`]: ['method', 'route', 'status', 'code'],
  [`${P}http_request_duration_seconds`]: ['method', 'route', 'le'],
  [`${P}validation_step_duration_seconds`]: ['step', 'outcome', 'le'],
  [`${P}provisioning_outcomes_total`]: ['issuer', 'wallet_provider', 'outcome', 'code'],
  [`${P}store_operation_duration_seconds`]: ['operation', 'outcome', 'le'],
};
const ROUTES = new Set(['/health', '/health/ready', '/openapi.json', '/.well-known/jwks.json', '/v1/provisioning-requests', '/v1/tokens/:tokenReferenceId', 'unmatched']);
const CODES = new Set<string>([...ERROR_CODES, 'none']);
const STEPS = new Set(PROVISIONING_STEPS.filter((s) => s.steps[0]! >= 3).map((s) => (s.steps.length > 1 ? `${s.steps[0]}-${s.steps.at(-1)}` : String(s.steps[0]))));

let fx: Fixture;
let temp: ReturnType<typeof createTempDir>;
let server: RunningTokenServer;
const tokenNumbers: string[] = [];

beforeAll(async () => {
  fx = await createFixture();
  temp = createTempDir('metrics-load-');
  const config = structuredClone(fx.config);
  // wallet-two is limited, so the load has 429s too.
  config.walletProviders[1]!.rateLimit = { perMinute: 5 };
  server = await startTokenServer({ config: { ...config, metrics: { port: 0 } }, dbPath: join(temp.dir, 'tokens.db'), clock: fx.clock, purgeIntervalMs: 0, logger: silentLogger });
});

afterAll(async () => {
  await server?.close();
  temp?.remove();
});

interface Series {
  name: string;
  labels: Record<string, string>;
}

/** Every sample line of a scrape: its metric (without _bucket/_sum/_count) and labels. */
function parseScrape(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
    expect(m, line).not.toBeNull();
    const labels = Object.fromEntries([...(m![2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.push({ name: m![1]!.replace(/_(bucket|sum|count)$/, ''), labels });
  }
  return out;
}

/** Checks one scrape; returns the keys of its series. */
function checkScrape(text: string, configured: { issuers: Set<string>; walletProviders: Set<string> }): Set<string> {
  // No card or token number, in any label, name or help text (sample values are numbers: byte counts may have 12 digits).
  const withoutValues = text
    .split('\n')
    .map((line) => (line.startsWith('#') ? line : line.replace(/ \S+$/, '')))
    .join('\n');
  expect(withoutValues).not.toMatch(/[0-9]{12,}/);
  expect(findCanary(text)).toEqual([]);
  for (const token of tokenNumbers) expect(text).not.toContain(token);
  const keys = new Set<string>();
  for (const s of parseScrape(text)) {
    keys.add(`${s.name}${JSON.stringify(s.labels)}`);
    const allowed = LABELS[s.name];
    if (!allowed) {
      // Node's process metrics, under the same prefix, with their own fixed labels.
      expect(s.name.startsWith(P), s.name).toBe(true);
      continue;
    }
    expect(Object.keys(s.labels).filter((k) => !allowed.includes(k)), s.name).toEqual([]);
    const { labels } = s;
    if ('route' in labels) expect(ROUTES, labels.route).toContain(labels.route);
    if ('method' in labels) expect(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']).toContain(labels.method);
    if ('status' in labels) expect(labels.status).toMatch(/^[1-5][0-9]{2}$/);
    if ('code' in labels) expect(CODES, labels.code).toContain(labels.code);
    if (s.name === `${P}validation_step_duration_seconds`) {
      expect(STEPS, labels.step).toContain(labels.step);
      expect(['ok', 'refused']).toContain(labels.outcome);
    }
    if (s.name === `${P}provisioning_outcomes_total`) {
      expect([...configured.issuers, 'unknown']).toContain(labels.issuer);
      expect([...configured.walletProviders, 'unknown']).toContain(labels.wallet_provider);
      expect(['issued', 'existing', 'replayed', 'refused']).toContain(labels.outcome);
    }
    if (s.name === `${P}store_operation_duration_seconds`) {
      expect(labels.operation).toMatch(/^[a-z]+(\.[a-zA-Z]+)?$/);
      expect(['ok', 'error']).toContain(labels.outcome);
    }
  }
  return keys;
}

/** One round of the bounded load: `count` requests of mixed kinds, 8 at a time. */
async function load(round: number, count: number): Promise<void> {
  let next = 0;
  const one = async (i: number) => {
    const kind = i % 8;
    let response: Response;
    if (kind === 0 || kind === 1) {
      const { submission } = await buildSubmission(fx, { card: CARD, identifiers: createIdentifiers() });
      response = await postSubmission(server.url, submission);
      if (response.status === 201) {
        tokenNumbers.push(parseProvisioningResponse(await response.text()).accessData!.tokenNumber);
        return;
      }
    } else if (kind === 2) {
      response = await postSubmission(server.url, (await buildSubmission(fx, { card: { ...CARD, pan: PAN_DECLINE }, identifiers: createIdentifiers() })).submission);
    } else if (kind === 3) {
      const { submission } = await buildSubmission(fx, { identifiers: createIdentifiers() });
      response = await postSubmission(server.url, { ...submission, deviceId: `device-${round}-${i}` });
    } else if (kind === 4) {
      response = await postSubmission(server.url, `{"not":"json"`);
    } else if (kind === 5) {
      // wallet-two: a few accepted, then 429 rate_limited (its submissions are for wallet-co: refused at the binding).
      response = await postSubmission(server.url, (await buildSubmission(fx, { identifiers: createIdentifiers({ walletProviderId: 'wallet-two' }) })).submission, { apiKey: OTHER_API_KEY });
    } else if (kind === 6) {
      // A token read whose id is a card number, and an unauthenticated one.
      response = await fetch(`${server.url}/v1/tokens/${i % 2 === 0 ? PAN : `${CANARY_PAN}${i}`}`, { headers: i % 3 === 0 ? {} : { authorization: `Bearer ${API_KEY}` } });
    } else {
      response = await fetch(`${server.url}/cards/${CANARY_PAN}/${round}/${i}?pan=${PAN}`);
    }
    await response.arrayBuffer();
  };
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) await one(next++);
    }),
  );
}

/** Runs a round of load while scraping the metrics every 25 ms; checks every scrape; returns the series seen. */
async function loadWhileScraping(round: number, count: number): Promise<{ keys: Set<string>; scrapes: number; statuses: Set<string> }> {
  const configured = { issuers: new Set(server.service.config.issuers.map((i) => i.id)), walletProviders: new Set(server.service.config.walletProviders.map((w) => w.id)) };
  const keys = new Set<string>();
  const statuses = new Set<string>();
  let scrapes = 0;
  let done = false;
  const scraper = (async () => {
    while (!done) {
      const response = await fetch(server.metricsUrl!);
      expect(response.status).toBe(200);
      const text = await response.text();
      for (const key of checkScrape(text, configured)) keys.add(key);
      scrapes++;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    await load(round, count);
  } finally {
    done = true;
    await scraper;
  }
  // And once after the load, with everything counted.
  const text = await (await fetch(server.metricsUrl!)).text();
  for (const key of checkScrape(text, configured)) keys.add(key);
  for (const s of parseScrape(text)) if (s.name === `${P}http_requests_total`) statuses.add(`${s.labels.status} ${s.labels.code}`);
  return { keys, scrapes: scrapes + 1, statuses };
}

describe('metrics under a bounded load', () => {
  it('every scrape during the load: declared label names, values from closed sets, no card or token number; a second round adds no series', async () => {
    const first = await loadWhileScraping(1, 320);
    expect(first.scrapes).toBeGreaterThan(3);
    // The load reached what it was meant to: issued, declined, binding refusals, bad JSON, rate limited, 401 and 404.
    for (const expected of ['201 none', '403 declined', '422 device_mismatch', '400 invalid_json', '429 rate_limited', '401 unauthenticated', '404 not_found']) {
      expect(first.statuses).toContain(expected);
    }
    expect(tokenNumbers.length).toBeGreaterThan(50);
    // Bounded: the service's own series, whatever the traffic, stay well under a few hundred (the route table
    // grew with the lifecycle and event routes, and the notification metrics; 402 series were measured then).
    const own = [...first.keys].filter((k) => Object.keys(LABELS).some((name) => k.startsWith(`${name}{`)));
    expect(own.length).toBeLessThan(600);

    const second = await loadWhileScraping(2, 320);
    const added = [...second.keys].filter((k) => !first.keys.has(k) && Object.keys(LABELS).some((name) => k.startsWith(`${name}{`)));
    expect(added).toEqual([]);
  }, 120_000);
});
