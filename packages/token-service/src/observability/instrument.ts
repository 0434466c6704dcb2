// What createTokenService wraps for metrics and traces: the store (a timing
// and tracing proxy), the issuer hooks (a span each), and the pipeline's
// observer (a span and a histogram per validation step, a counter per
// outcome).
import { SpanKind } from '@opentelemetry/api';
import { toProvisioningError } from '@pushprov/protocol';
import type { TokenServiceConfig } from '../config/parse-config.js';
import type { PipelineObserver } from '../provisioning/context.js';
import { PROVISIONING_STEPS } from '../provisioning/steps.js';
import type { AccountResolver, DecisionHook } from '../service/hooks.js';
import type { TokenServiceStore } from '../store/types.js';
import { type TokenServiceMetrics, stepLabel } from './metrics.js';
import { inSpan } from './tracing.js';

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/** Times and traces one call; its result (or rejection) is passed on unchanged. */
function observeCall(operation: string, metrics: TokenServiceMetrics | undefined, call: () => unknown): unknown {
  const started = performance.now();
  const done = (ok: boolean) => metrics?.observeStore(operation, (performance.now() - started) / 1000, ok);
  return inSpan(`store ${operation}`, { 'db.operation.name': operation }, async () => {
    try {
      const result = call();
      const value = isThenable(result) ? await result : result;
      done(true);
      return value;
    } catch (error) {
      done(false);
      throw error;
    }
  }, SpanKind.CLIENT);
}

/**
 * The store behind a proxy that times (`store_operation_duration_seconds`)
 * and traces (`store <operation>` spans) every method call, its own and
 * those of its sub-stores one level down (`tokens.find`, `idempotency.begin`,
 * …). Methods run on the real objects (`this` is the store, not the proxy);
 * what they return is passed on as it is. Every call answers a promise.
 */
export function instrumentStore(store: TokenServiceStore, metrics: TokenServiceMetrics | undefined): TokenServiceStore {
  const wrap = <T extends object>(target: T, prefix: string, depth: number): T => {
    const cache = new Map<string, { source: unknown; wrapped: unknown }>();
    return new Proxy(target, {
      get(obj, prop) {
        const value: unknown = Reflect.get(obj, prop, obj);
        if (typeof prop !== 'string' || prop === 'then' || prop === 'constructor') return value;
        const hit = cache.get(prop);
        if (hit && hit.source === value) return hit.wrapped;
        // A frozen property must be answered as it is (a proxy invariant).
        const own = Reflect.getOwnPropertyDescriptor(obj, prop);
        if (own && !own.configurable && !own.writable) return value;
        let wrapped: unknown;
        if (typeof value === 'function') {
          const operation = `${prefix}${prop}`;
          wrapped = (...args: unknown[]) => observeCall(operation, metrics, () => (value as (...a: unknown[]) => unknown).apply(obj, args));
        } else if (depth === 0 && typeof value === 'object' && value !== null && !isThenable(value)) {
          wrapped = wrap(value, `${prop}.`, depth + 1);
        } else {
          return value;
        }
        cache.set(prop, { source: value, wrapped });
        return wrapped;
      },
    });
  };
  return wrap(store, '', 0);
}

/** The issuer hooks, each call inside a span (`provisioning.hook decide`, `provisioning.hook resolveAccount`). */
export function instrumentHooks(hooks: { decide?: DecisionHook | undefined; resolveAccount?: AccountResolver | undefined }): {
  decide?: DecisionHook | undefined;
  resolveAccount?: AccountResolver | undefined;
} {
  const { decide, resolveAccount } = hooks;
  return {
    decide:
      decide &&
      ((context) =>
        inSpan('provisioning.hook decide', { 'pushprov.issuer_id': context.issuerId, 'pushprov.wallet_provider_id': context.walletProviderId }, async () =>
          decide(context),
        )),
    resolveAccount:
      resolveAccount &&
      ((context) =>
        inSpan('provisioning.hook resolveAccount', { 'pushprov.issuer_id': context.issuerId, 'pushprov.wallet_provider_id': context.walletProviderId }, async () =>
          resolveAccount(context),
        )),
  };
}

/**
 * The pipeline's observer: each validation step in a span
 * (`provisioning.step <n>`) and timed into `validation_step_duration_seconds`;
 * each outcome counted in `provisioning_outcomes_total` with label values
 * from the configured ids only (anything else: `unknown`).
 */
export function createPipelineObserver(config: Pick<TokenServiceConfig, 'issuers' | 'walletProviders'>, metrics: TokenServiceMetrics | undefined): PipelineObserver {
  const issuers = new Set(config.issuers.map((i) => i.id));
  const providers = new Set(config.walletProviders.map((p) => p.id));
  return {
    step(step, run) {
      const label = stepLabel(step);
      const name = PROVISIONING_STEPS.find((s) => s.steps.includes(step))?.name;
      const started = performance.now();
      return inSpan(`provisioning.step ${label}`, { 'pushprov.step': label, 'pushprov.step.name': name }, async () => {
        let ok = false;
        try {
          const result = await run();
          ok = true;
          return result;
        } finally {
          metrics?.observeStep(step, (performance.now() - started) / 1000, ok);
        }
      });
    },
    outcome(o) {
      metrics?.observeOutcome({
        issuerId: o.issuerId !== undefined && issuers.has(o.issuerId) ? o.issuerId : 'unknown',
        walletProviderId: providers.has(o.walletProviderId) ? o.walletProviderId : 'unknown',
        outcome: o.outcome,
        code: o.error === undefined ? undefined : toProvisioningError(o.error).code,
      });
    },
  };
}
