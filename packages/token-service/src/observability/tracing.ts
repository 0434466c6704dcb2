// OpenTelemetry spans through @opentelemetry/api: a no-op until the host
// registers a tracer provider (and, for spans to nest across `await`, a
// context manager such as AsyncLocalStorageContextManager; the Node SDK
// registers both). Attributes carry ids, route patterns, step numbers and
// error codes only: never a path, a header value, a card or token number.
import { type Attributes, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { redactPans, toProvisioningError } from '@pushprov/protocol';
import packageJson from '../../package.json' with { type: 'json' };

/** The instrumentation scope of the token service's spans. */
export const TRACER_NAME = '@pushprov/token-service';

/** The token service's tracer, from the global tracer provider (a no-op one until the host registers its own). */
export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME, packageJson.version);
}

/** Attributes as given, string values passed through `redactPans` (a last line of defence: none should hold digits runs). */
export function safeAttributes(attributes: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = typeof v === 'string' ? redactPans(v) : v;
  return out;
}

/** Marks a span as failed with the protocol's code only (no message, no stack: they could carry request content). */
export function failSpan(span: Span, error: unknown): void {
  const code = toProvisioningError(error).code;
  span.setAttribute('pushprov.error_code', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/**
 * Runs `run` inside a new active span `name` (a child of the active span),
 * ending it when `run` settles; a rejection marks the span failed with its
 * protocol code and is rethrown.
 */
export function inSpan<T>(name: string, attributes: Record<string, string | number | boolean | undefined>, run: () => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return getTracer().startActiveSpan(name, { kind, attributes: safeAttributes(attributes) }, async (span) => {
    try {
      return await run();
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
