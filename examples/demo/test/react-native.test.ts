// React Native (issue 18, item 12): the app packages need nothing from their
// runtime beyond what docs/react-native.md lists.
//
// 1. Every app entry (the wallet SDK's main entry, /http, /device-key,
//    /activation; the issuer SDK's app entry and /activation) bundles with
//    esbuild for a neutral platform, where any import of a Node built-in
//    fails the build.
// 2. A full provisioning runs inside a `node:vm` context whose globals are
//    exactly that list (no process, Buffer, require, setImmediate, console,
//    Headers, Response, ...): the bank's app and the wallet over an in-memory
//    app channel, the issuer backend and the token service real, on
//    127.0.0.1 over HTTP. `fetch` is a bridge to the host's, shaped like
//    React Native's (no body stream). Every other global of Node and of
//    browsers is a trap that records a read, even a `typeof` check: one
//    outside the documented optional ones fails the test.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { type BuildOptions, type Plugin, build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientAssertion } from '@pushprov/protocol';
import { type Sandbox, startSandbox } from '../src/start-sandbox.js';
import { ACCOUNT_HINT, ACCOUNT_REF, DEMO_USER, ISSUER_ID, SERVICE_ID, WALLET_PROVIDER_ID } from '../src/test-card.js';
import type { AppFlowInput, provision } from './react-native/app-flow.js';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '../../../packages');

/**
 * The globals the app packages may use: docs/react-native.md, "What the
 * packages need from the runtime". The test gives the context these and
 * nothing else.
 */
export const RUNTIME_GLOBALS = [
  'crypto',
  'TextEncoder',
  'TextDecoder',
  'URL',
  'AbortController',
  'setTimeout',
  'clearTimeout',
  'queueMicrotask',
  'atob',
  'btoa',
  'fetch',
] as const;

/**
 * Globals a package reads and copes without (it feature-tests them and
 * falls back): allowed to be missing, and listed in the doc. `CryptoKey`:
 * jose's `key instanceof CryptoKey`, in a try, falling back to the key's
 * `Symbol.toStringTag`.
 */
export const OPTIONAL_GLOBALS = ['CryptoKey'] as const;

/** The entries an app may bundle (not /browser: a web page's; not /local: sandboxes only, but checked too). */
const APP_ENTRIES = [
  'wallet-sdk/src/index.ts',
  'wallet-sdk/src/http.ts',
  'wallet-sdk/src/device-key.ts',
  'wallet-sdk/src/activation.ts',
  'issuer-sdk/src/index.ts',
  'issuer-sdk/src/activation.ts',
  'issuer-sdk/src/local.ts',
];

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Fails the build on any import of a Node built-in, naming it and its importer. */
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      BUILTINS.has(args.path) || args.path.startsWith('node:') ? { errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer}` }] } : undefined,
    );
  },
};

/** What a React Native bundler sees: no platform of its own, the `react-native` and `import` conditions (and `source`, for this workspace's TypeScript). */
const NEUTRAL: BuildOptions = {
  bundle: true,
  platform: 'neutral',
  mainFields: ['module', 'main'],
  conditions: ['react-native', 'source', 'import'],
  target: 'es2022',
  write: false,
  logLevel: 'silent',
  plugins: [noNodeBuiltins],
};

describe('the app packages bundled for a neutral platform', () => {
  it.each(APP_ENTRIES)('%s bundles with no Node built-in', async (entry) => {
    const result = await build({ ...NEUTRAL, entryPoints: [join(packages, entry)], format: 'esm', metafile: true });
    expect(Object.keys(result.metafile!.inputs).filter((input) => input.startsWith('node:') || BUILTINS.has(input))).toEqual([]);
  });

  it('fails the build when a module imports a Node built-in (the check can fail)', async () => {
    for (const source of ["import { randomBytes } from 'node:crypto'; export const r = randomBytes;", "import { Buffer } from 'buffer'; export const b = Buffer;"]) {
      await expect(build({ ...NEUTRAL, stdin: { contents: source, resolveDir: here, loader: 'ts' }, format: 'esm' })).rejects.toThrow(/Node built-in/);
    }
  });
});

/** The React Native shape of `fetch`: the host's, answered as an object with status, headers and `text()`, no body stream. */
function fetchBridge(): (input: unknown, init?: Record<string, unknown>) => Promise<unknown> {
  return async (input, init = {}) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries((init.headers as Record<string, string> | undefined) ?? {})) headers[name] = String(value);
    const response = await fetch(String(input), {
      method: typeof init.method === 'string' ? init.method : 'GET',
      headers,
      ...(typeof init.body === 'string' && { body: init.body }),
      ...(init.signal instanceof AbortSignal && { signal: init.signal }),
    });
    const text = await response.text();
    return {
      status: response.status,
      ok: response.ok,
      statusText: response.statusText,
      url: response.url,
      headers: { get: (name: string) => response.headers.get(name) },
      text: async () => text,
    };
  };
}

/** Globals of browsers and other runtimes that Node does not have, trapped too. */
const OTHER_RUNTIMES = ['window', 'self', 'document', 'navigator', 'localStorage', 'global', 'require', 'module', 'exports', '__dirname', '__filename', 'Deno', 'Bun', 'XMLHttpRequest', 'CryptoKey', 'SubtleCrypto', 'HermesInternal', 'nativeModuleProxy'];

/**
 * A context with exactly {@link RUNTIME_GLOBALS}. Every other global of Node
 * (process, Buffer, setImmediate, console, Headers, Response, AbortSignal,
 * structuredClone, performance, ...) and of browsers is a trap: reading it,
 * even with `typeof`, records its name and yields `undefined`.
 */
function reactNativeLikeContext() {
  const globals: Record<string, unknown> = {
    crypto: globalThis.crypto,
    TextEncoder,
    TextDecoder,
    URL,
    AbortController,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    atob,
    btoa,
    fetch: fetchBridge(),
  };
  expect(Object.keys(globals).sort()).toEqual([...RUNTIME_GLOBALS].sort());
  // The ECMAScript built-ins of a fresh context (Object, Promise, Intl, ...): what every JavaScript engine has.
  const intrinsics = new Set(vm.runInContext('Object.getOwnPropertyNames(globalThis)', vm.createContext({})) as string[]);
  // V8 gives every context a `console`; React Native has one too, but the packages must not log: trapped.
  intrinsics.delete('console');
  // Not the host's own bookkeeping (`__vitest_…`, zod's `__zod_globalConfig` of the host's copy): those are no runtime API.
  const hostGlobals = Object.getOwnPropertyNames(globalThis).filter((name) => !name.startsWith('__'));
  const traps = [...new Set([...hostGlobals, ...OTHER_RUNTIMES])].filter((name) => !intrinsics.has(name) && !(name in globals));
  const touched = new Set<string>();
  for (const name of traps) {
    Object.defineProperty(globals, name, {
      get() {
        touched.add(name);
        return undefined;
      },
      configurable: true,
      enumerable: false,
    });
  }
  const context = vm.createContext(globals, { codeGeneration: { strings: false, wasm: false } });
  return { context, touched, traps };
}

let sandbox: Sandbox;
let assertionServer: Server;
let assertionUrl: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  // The wallet provider's backend: a fresh client assertion per call (the signing key stays here, never in the app).
  assertionServer = createServer((req, res) => {
    void createClientAssertion({ walletProviderId: WALLET_PROVIDER_ID, audience: SERVICE_ID, signingKey: sandbox.walletProviderKey.privateJwk }).then((assertion) => {
      res.writeHead(req.method === 'POST' ? 200 : 405, { 'content-type': 'application/json' });
      res.end(req.method === 'POST' ? JSON.stringify({ assertion }) : '{}');
    });
  });
  await new Promise<void>((resolve) => assertionServer.listen(0, '127.0.0.1', resolve));
  assertionUrl = `http://127.0.0.1:${(assertionServer.address() as AddressInfo).port}/assertion`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => {
    if (!assertionServer?.listening) return resolve();
    assertionServer.close(() => resolve());
    assertionServer.closeAllConnections();
  });
  await sandbox?.close();
});

describe('a provisioning in a runtime with only the listed globals', () => {
  it('provisions a card end to end: bank app and wallet in the context, backend and token service over HTTP', async () => {
    const bundled = await build({ ...NEUTRAL, entryPoints: [join(here, 'react-native/app-flow.ts')], format: 'iife', globalName: 'appFlow' });
    const code = bundled.outputFiles![0]!.text;
    const { context, touched, traps } = reactNativeLikeContext();
    expect(traps).toEqual(expect.arrayContaining(['process', 'Buffer', 'require', 'setImmediate', 'console', 'Headers', 'Response', 'AbortSignal', 'structuredClone', 'window']));
    vm.runInContext(code, context, { filename: 'app-flow.bundle.js' });
    const run = (vm.runInContext('appFlow', context) as { provision: typeof provision }).provision;
    const input: AppFlowInput = {
      backendUrl: sandbox.backendUrl,
      activationUrl: sandbox.activationUrl,
      tokenServiceUrl: sandbox.tokenService.url,
      assertionUrl,
      bankSessionToken: DEMO_USER.sessionToken,
      issuerId: ISSUER_ID,
      issuerJwks: { keys: [sandbox.issuerKey.publicJwk] },
      walletProviderId: WALLET_PROVIDER_ID,
      accountRef: ACCOUNT_REF,
      account: ACCOUNT_HINT,
    };
    // Plain data into the context, as JSON: no host object or prototype crosses with it.
    const result = JSON.parse(JSON.stringify(await run(vm.runInContext(`(${JSON.stringify(input)})`, context) as AppFlowInput)));

    expect(result.walletError).toBeUndefined();
    expect(result).toMatchObject({ issuerStatus: 'provisioned', walletStatus: 'provisioned', activationsReady: true });
    expect(result.walletToken).toMatchObject({ status: 'active', panLast4: '1111' });
    expect(result.stored).toEqual([{ tokenReferenceId: result.walletToken.tokenReferenceId, tokenLast4: result.walletToken.tokenLast4, status: 'active' }]);
    expect(result.issuerTokenReferenceId).toBe(result.walletToken.tokenReferenceId);
    // The token service issued it encrypted to the device key the wallet generated in the context.
    const submitted = sandbox.serviceLog.filter((event) => (event as { path?: string }).path === '/v1/provisioning-requests');
    expect(submitted.map((event) => (event as { status?: number }).status)).toEqual([201]);

    // No global outside the list was read, not even to feature-test it, except the documented optional ones.
    expect([...touched].filter((name) => !(OPTIONAL_GLOBALS as readonly string[]).includes(name)).sort()).toEqual([]);
    expect(vm.runInContext('typeof process + typeof Buffer + typeof require + typeof setImmediate', context)).toBe('undefinedundefinedundefinedundefined');
  });
});
