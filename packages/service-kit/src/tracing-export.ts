import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
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
 * `traceparent` sent to subgraphs form one trace across processes. Off (nothing registered)
 * without an exporter. Returns what flushes and unregisters it at shutdown.
 */
export function startTracing(config: TracingConfig): () => Promise<void> {
  const processor = config.exporter
    ? new SimpleSpanProcessor(config.exporter)
    : config.otlpEndpoint
      ? new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }))
      : undefined;
  if (!processor) return async () => undefined;
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  return async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}
