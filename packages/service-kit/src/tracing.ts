import type { IncomingHttpHeaders } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';

/**
 * Continues the caller's trace (W3C `traceparent`) for one incoming request. With an
 * OpenTelemetry SDK registered (the gateway registers one) this records a server span under the
 * caller's; without one the span does not record, yet the caller's trace id stays active, so
 * the log lines of the request carry it.
 */
export function continueTrace<T>(service: string, method: string, path: string, headers: IncomingHttpHeaders, run: (span: Span) => Promise<T>): Promise<T> {
  const tracer = trace.getTracer('ketengraph');
  return tracer.startActiveSpan(
    `${method} ${path}`,
    { kind: SpanKind.SERVER, attributes: { 'service.name': service, 'http.request.method': method, 'url.path': path } },
    incomingContext(headers),
    async (span) => {
      try {
        return await run(span);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function incomingContext(headers: IncomingHttpHeaders): Context {
  const extracted = propagation.extract(ROOT_CONTEXT, headers, {
    keys: (carrier) => Object.keys(carrier),
    get: (carrier, key) => carrier[key],
  });
  if (trace.getSpanContext(extracted)) return extracted;
  // No propagator registered (a subgraph process without the SDK): read the W3C header itself.
  const match = TRACEPARENT.exec(String(headers.traceparent ?? ''));
  if (!match) return ROOT_CONTEXT;
  const spanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED, isRemote: true };
  return trace.isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}

/** Writes the active trace into outgoing headers (`traceparent`), so the next service continues it. */
export function injectTrace(set: (key: string, value: string) => void): void {
  propagation.inject(context.active(), {}, { set: (_carrier, key, value) => set(key, value) });
}
