// The HTTP side of observability: the correlation id, the route label and
// the request's server span (continuing an incoming `traceparent`).
import { type Context, type Span, SpanKind, SpanStatusCode, type TextMapGetter, context, propagation, trace } from '@opentelemetry/api';
import { type RandomSource, createId, redactPans } from '@pushprov/protocol';
import { getTracer, safeAttributes } from './tracing.js';

/** The header of the correlation id, accepted from the caller and echoed on every response. */
export const CORRELATION_ID_HEADER = 'x-correlation-id';

/** What a caller's correlation id must be: 1-128 characters of [A-Za-z0-9._-]. */
const CORRELATION_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The request's correlation id: the caller's `X-Correlation-Id` when it is
 * 1-128 characters of `[A-Za-z0-9._-]` and holds no run of 12 or more
 * digits (which every log line masks, so it could not be found again);
 * otherwise a new one, `cor_…`.
 *
 * @example
 * ```ts
 * acceptCorrelationId('checkout-7f3a', secureRandom); // 'checkout-7f3a'
 * acceptCorrelationId('bad id!', secureRandom); // 'cor_…'
 * ```
 */
export function acceptCorrelationId(header: string | undefined, random: RandomSource): string {
  if (header !== undefined && CORRELATION_ID.test(header) && redactPans(header) === header) return header;
  return createId('cor', random);
}

/** The label of a route: the pattern the app registered, or `unmatched` for any path no route serves. */
export function routeLabel(routePath: string | undefined): string {
  return routePath === undefined || routePath === '' || routePath === '*' || routePath === '/*' ? 'unmatched' : routePath;
}

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

/** What ends a request's span. */
export interface RequestSpanEnd {
  route: string;
  status: number;
  code?: string | undefined;
  walletProviderId?: string | undefined;
}

/** A request's server span, started by {@link startRequestSpan}. */
export interface RequestSpan {
  /** Runs the request's handling with this span active (the steps, hooks and store calls nest under it). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  end(outcome: RequestSpanEnd): void;
}

/**
 * Starts the server span of one request, a child of the caller's trace when
 * the request carries one (`traceparent`, through the propagator the host
 * registered: W3C trace context with the OpenTelemetry SDK). Its attributes
 * are the method, the route pattern, the status, the protocol code and the
 * request and correlation ids: never the path or a header's value.
 */
export function startRequestSpan(headers: Headers, method: string, ids: { requestId: string; correlationId: string }): RequestSpan {
  const parent: Context = propagation.extract(context.active(), headers, headerGetter);
  const span: Span = getTracer().startSpan(
    `HTTP ${method}`,
    {
      kind: SpanKind.SERVER,
      attributes: safeAttributes({ 'http.request.method': method, 'pushprov.request_id': ids.requestId, 'pushprov.correlation_id': ids.correlationId }),
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  return {
    run: (fn) => context.with(active, fn),
    end(outcome) {
      span.updateName(`${method} ${outcome.route}`);
      span.setAttributes(
        safeAttributes({
          'http.route': outcome.route,
          'http.response.status_code': outcome.status,
          'pushprov.error_code': outcome.code,
          'pushprov.wallet_provider_id': outcome.walletProviderId,
        }),
      );
      // A server span fails on 5xx only: a refusal is the service doing its job.
      if (outcome.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.code ?? String(outcome.status) });
      span.end();
    },
  };
}
