import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's one Prometheus registry (prom-client), served on `/metrics`. Gateway and
 * subgraphs register their metrics here; labels carry service, subgraph and operation names,
 * reason codes and outcomes — never values from requests.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Returns the metric registered under `name`, creating it once (modules and tests may ask twice). */
function once<T>(name: string, create: () => T): T {
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? create();
}

export function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return once(name, () => new Counter({ name, help, labelNames, registers: [metricsRegistry] }));
}

export function gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect?: (this: Gauge<L>) => void): Gauge<L> {
  return once(name, () => new Gauge({ name, help, labelNames, registers: [metricsRegistry], ...(collect ? { collect } : {}) }));
}

export function latencyHistogram<L extends string>(name: string, help: string, labelNames: readonly L[]): Histogram<L> {
  return once(name, () => new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [metricsRegistry] }));
}

/** GraphQL requests per service and operation name (every ketengraph process). */
export const graphqlRequests = counter(
  'ketengraph_graphql_requests_total',
  'GraphQL operations answered, by service, operation name and outcome (ok, error).',
  ['service', 'operation', 'outcome'],
);
export const graphqlLatency = latencyHistogram(
  'ketengraph_graphql_request_duration_seconds',
  'Time to answer a GraphQL operation, by service and operation name.',
  ['service', 'operation'],
);

/**
 * Operation names come from clients; only well-formed names, and at most this many distinct
 * ones per process, become label values, so a client cannot grow the registry without bound.
 */
const MAX_OPERATION_LABELS = 500;
const operationLabels = new Set<string>();
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,79}$/;

export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (!OPERATION_NAME.test(name)) return 'other';
  if (operationLabels.has(name)) return name;
  if (operationLabels.size >= MAX_OPERATION_LABELS) return 'other';
  operationLabels.add(name);
  return name;
}

export async function metricsText(): Promise<string> {
  return metricsRegistry.metrics();
}

/** Counts and times every GraphQL operation of a service by operation name (an Apollo Server plugin). */
export function operationMetricsPlugin<Context extends BaseContext>(service: string): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, response }) {
          const operation = operationLabel(operationName);
          const failed = response.body.kind === 'single' ? Boolean(response.body.singleResult.errors?.length) : false;
          graphqlRequests.inc({ service, operation, outcome: failed ? 'error' : 'ok' });
          graphqlLatency.observe({ service, operation }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}

/** SQL statement counters of the subgraphs in this process, read when /metrics is scraped. */
const sqlSources = new Map<string, () => number>();
once(
  'ketengraph_sql_statements_total',
  () =>
    new Counter({
      name: 'ketengraph_sql_statements_total',
      help: 'SQL statements sent to the database.',
      labelNames: ['subgraph'],
      registers: [metricsRegistry],
      collect() {
        this.reset();
        for (const [subgraph, count] of sqlSources) this.inc({ subgraph }, count());
      },
    }),
);

/** Reports a subgraph's SQL statement count on /metrics; returns a function that stops it. */
export function reportSqlStatements(subgraph: string, count: () => number): () => void {
  sqlSources.set(subgraph, count);
  return () => sqlSources.delete(subgraph);
}
