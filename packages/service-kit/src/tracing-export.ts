import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { COMMON_ENV, readEnv } from './config.js';

export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: an OTLP/HTTP collector (`…/v1/traces` is appended); unset: no traces are exported. */
  otlpEndpoint?: string;
  /** An exporter given directly (tests: an in-memory exporter). */
  exporter?: SpanExporter;
}

export function loadTracingConfig(env: NodeJS.ProcessEnv): TracingConfig {
  const { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint } = readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: COMMON_ENV.OTEL_EXPORTER_OTLP_ENDPOINT }, env);
  return otlpEndpoint ? { otlpEndpoint } : {};
}

/**
 * OpenTelemetry for one process (the gateway, or a subgraph run as its own process): a tracer
 * provider with the W3C trace-context propagator (NodeTracerProvider's default), so the HTTP
 * layer's server spans (continueTrace), @apollo/gateway's own plan and fetch spans and the
 * `traceparent` sent to subgraphs form one trace across processes. Off (nothing registered, and
 * the SDK and OTLP exporter not even loaded: ~6 MiB of heap a process without traces does not
 * need) without an exporter. Resolves to what flushes and unregisters it at shutdown.
 */
export async function startTracing(config: TracingConfig): Promise<() => Promise<void>> {
  if (!config.exporter && !config.otlpEndpoint) return async () => undefined;
  const [{ BatchSpanProcessor, SimpleSpanProcessor }, { NodeTracerProvider }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const processor = config.exporter
    ? new SimpleSpanProcessor(config.exporter)
    : new BatchSpanProcessor(
        new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url: `${config.otlpEndpoint!.replace(/\/$/, '')}/v1/traces` }),
      );
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  return async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}
