/**
 * Operations: structured logs free of personal data with request and trace ids, one trace from
 * gateway to subgraphs over W3C traceparent, Prometheus metrics, graceful shutdown that loses
 * no accepted request or audit record, and supergraph hot reload (a broken supergraph refused,
 * a good one applied without dropping requests in flight, authorization following it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadGatewayConfig, type GatewayConfig, type RunningGateway } from '@ketengraph/gateway';
import { openDatabase, redirectLogs } from '@ketengraph/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../gateway/src/audit/log.js';
import { composeSupergraph } from '../schema/compose.js';
import { startFaultyProxy, type FaultyProxy } from './support/faulty-proxy.js';
import { startFederation, type Federation } from './support/federation.js';
import { metricValue, post } from './support/gateway-client.js';
import { operation } from './support/operations.js';

type Exporter = NonNullable<GatewayConfig['tracing']['exporter']>;
interface FinishedSpan {
  name: string;
  attributes: Record<string, unknown>;
  spanContext(): { traceId: string; spanId: string };
  parentSpanContext?: { spanId: string };
}

/** Collects finished spans in memory (the SpanExporter interface: export and shutdown). */
function memoryExporter(): Exporter & { spans: FinishedSpan[] } {
  const spans: FinishedSpan[] = [];
  return {
    spans,
    export: (batch, done) => {
      spans.push(...(batch as unknown as FinishedSpan[]));
      done({ code: 0 });
    },
    shutdown: async () => undefined,
  } as Exporter & { spans: FinishedSpan[] };
}

let federation: Federation;
let patient: { id: string; bsn: string; name: { full: string } };
const lines: Record<string, unknown>[] = [];
const raw: string[] = [];
let restoreLogs: () => void;

beforeAll(async () => {
  restoreLogs = redirectLogs(
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) {
          raw.push(line);
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    }) as never,
  );
  federation = await startFederation({ seedPatients: 10 });
  const result = await federation.request<any>('{ patients(first: 1) { edges { node { id bsn name { full } } } } }');
  patient = result.data.patients.edges[0].node;
});

afterAll(async () => {
  await federation?.close();
  restoreLogs?.();
});

describe('logs, traces and metrics', () => {
  let traced: RunningGateway;
  const exporter = memoryExporter();
  beforeAll(async () => {
    traced = await federation.startGateway({ tracing: { exporter } });
  });
  afterAll(async () => {
    await traced?.close();
  });

  it('one trace from the gateway into every subgraph it calls, through the traceparent header', async () => {
    const { status, headers } = await post(federation, traced.url, {
      query: operation('PatientTrajectory'),
      variables: { id: patient.id },
      operationName: 'PatientTrajectory',
    });
    expect(status).toBe(200);
    const requestId = headers.get('x-request-id')!;
    const gatewaySpan = exporter.spans.find((s) => s.attributes['service.name'] === 'gateway' && s.name === 'POST /graphql');
    expect(gatewaySpan).toBeDefined();
    const traceId = gatewaySpan!.spanContext().traceId;
    const inTrace = exporter.spans.filter((s) => s.spanContext().traceId === traceId);
    const subgraphSpans = inTrace.filter((s) => s.name === 'POST /graphql' && s.attributes['service.name'] !== 'gateway');
    expect(new Set(subgraphSpans.map((s) => s.attributes['service.name']))).toEqual(new Set(['indicatiestelling', 'plaatsing', 'forensisch-cv', 'kwaliteit']));
    // Each subgraph span's parent is a span of the gateway (its fetch), known only from the header.
    const gatewaySpanIds = new Set(inTrace.filter((s) => !subgraphSpans.includes(s)).map((s) => s.spanContext().spanId));
    for (const span of subgraphSpans) expect(gatewaySpanIds.has(span.parentSpanContext!.spanId)).toBe(true);
    // The subgraphs' log lines of this request carry the same trace id.
    const subgraphLines = lines.filter((l) => l.traceId === traceId && l.service !== 'gateway');
    expect(subgraphLines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.service === 'gateway' && l.requestId === requestId && l.traceId === traceId && l.msg === 'request')).toBe(true);
  });

  it('logs are JSON lines with service and request id, and carry no personal data, variables, documents or tokens', async () => {
    const token = await federation.callerToken();
    await post(federation, traced.url, { query: `{ patientByBsn(bsn: "${patient.bsn}") { name { full } } }` });
    await post(federation, traced.url, { query: 'query ($bsn: BSN!) { patientByBsn(bsn: $bsn) { id } }', variables: { bsn: patient.bsn } });
    await post(federation, traced.url, { query: '{ nope }' }, { headers: { authorization: 'Bearer forged.token.value' } });
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(typeof line.service).toBe('string');
      expect(typeof line.level).toBe('string');
    }
    const text = raw.join('\n');
    for (const secret of [patient.bsn, patient.name.full, token, 'forged.token.value', 'patientByBsn']) expect(text).not.toContain(secret);
    expect(lines.filter((l) => l.msg === 'request' && l.service === 'gateway').every((l) => typeof l.requestId === 'string')).toBe(true);
  });

  it('serves Prometheus metrics: operations, subgraph calls, authorization, limits, audit, memory', async () => {
    const text = await (await fetch(new URL('/metrics', traced.url))).text();
    for (const name of [
      'ketengraph_graphql_requests_total{service="gateway",operation="PatientTrajectory",outcome="ok"}',
      'ketengraph_graphql_request_duration_seconds_bucket{',
      'ketengraph_subgraph_requests_total{subgraph="kwaliteit",outcome="ok"}',
      'ketengraph_subgraph_request_duration_seconds_bucket{',
      'ketengraph_audit_writes_total{outcome="ok"}',
      'ketengraph_audit_records_total',
      'ketengraph_sql_statements_total{subgraph="plaatsing"}',
      'process_resident_memory_bytes',
      '# TYPE ketengraph_limit_rejections_total counter',
      '# TYPE ketengraph_authorization_denials_total counter',
      '# TYPE ketengraph_rate_limited_total counter',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).not.toContain(patient.bsn);
  });
});

it('exports traces over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (a collector stands in)', async () => {
  const received: { path: string; type: string; bytes: number }[] = [];
  const collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', type: request.headers['content-type'] ?? '', bytes: Buffer.concat(chunks).length });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  try {
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    expect(loadGatewayConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing).toEqual({ otlpEndpoint: endpoint });
    const exporting = await federation.startGateway({ tracing: { otlpEndpoint: endpoint } });
    await post(federation, exporting.url, { query: '{ qualityPillars { number } }' });
    await exporting.close(); // flushes the batch
    expect(received.length).toBeGreaterThan(0);
    expect(received[0]).toMatchObject({ path: '/v1/traces' });
    expect(received[0]!.bytes).toBeGreaterThan(0);
  } finally {
    collector.close();
  }
});

describe('graceful shutdown', () => {
  it('finishes every request in flight and writes all their audit records before closing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketengraph-shutdown-'));
    const proxy = await startFaultyProxy(federation.subgraphs.kwaliteit.url);
    try {
      const gateway = await federation.startGateway({ audit: { databaseUrl: undefined, dataDir: join(dir, 'audit') }, subgraphUrls: { kwaliteit: proxy.url } });
      proxy.fault = { delayMs: 1500 }; // every request is still running when the shutdown starts
      // Six patients: identical subgraph fetches of one caller are shared, six different ones are not.
      const listed = await federation.request<any>('{ patients(first: 6) { edges { node { id } } } }');
      const patientIds: string[] = listed.data.patients.edges.map((edge: any) => edge.node.id);
      const inFlight = patientIds.map((id) =>
        post<any>(federation, gateway.url, { query: operation('PatientTrajectory'), variables: { id }, operationName: 'PatientTrajectory' }),
      );
      // In flight = reached kwaliteit (held there 1.5 s), not "sent 250 ms ago": on a loaded machine
      // a request may not even be connected by then, and a shutdown refuses what it has not accepted.
      await expect.poll(() => proxy.hits, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(6);
      const closing = gateway.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      // No new connections once the shutdown began.
      await expect(fetch(gateway.url, { method: 'POST', body: '{}' })).rejects.toThrow();
      const answers = await Promise.all(inFlight);
      await closing;
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body.errors).toBeUndefined();
      }
      expect(answers.map((answer) => answer.body.data.patient.id)).toEqual(patientIds);
      const db = await openDatabase({ dataDir: join(dir, 'audit'), poolSize: 1 });
      try {
        const verified = await verifyAuditChain(db);
        expect(verified).toMatchObject({ ok: true, count: 6 });
      } finally {
        await db.close();
      }
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('supergraph hot reload', () => {
  let dir: string;
  let file: string;
  let gateway: RunningGateway;
  let proxy: FaultyProxy;
  let good: string;
  const urls = () => Object.fromEntries(Object.entries(federation.subgraphs).map(([name, sg]) => [name, sg.url]));
  const waitFor = async (condition: () => Promise<boolean>) => {
    for (let i = 0; i < 60; i++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('condition not reached');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ketengraph-reload-'));
    file = join(dir, 'supergraph.graphql');
    good = composeSupergraph(urls());
    writeFileSync(file, good);
    proxy = await startFaultyProxy(federation.subgraphs.kwaliteit.url);
    gateway = await federation.startGateway({ supergraphSdl: undefined, supergraphFile: file, supergraphPollMs: 50 });
  });
  afterAll(async () => {
    await gateway?.close();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pillars = () => post<any>(federation, gateway.url, { query: '{ qualityPillars { number } }' });

  it('refuses a supergraph that does not parse or validate; the previous one keeps serving', async () => {
    const before = await metricValue(gateway.url, 'ketengraph_supergraph_reloads_total', { outcome: 'refused' });
    writeFileSync(file, 'schema { query: Query } type Query { broken: Nope }');
    await waitFor(async () => (await metricValue(gateway.url, 'ketengraph_supergraph_reloads_total', { outcome: 'refused' })) > before);
    // Parses, but does not validate: a field of a type that does not exist.
    writeFileSync(file, good.replace('qualityPillars: [QualityPillar!]', 'qualityPillars: [NoSuchType!]'));
    await waitFor(async () => (await metricValue(gateway.url, 'ketengraph_supergraph_reloads_total', { outcome: 'refused' })) > before + 1);
    const { body } = await pillars();
    expect(body.errors).toBeUndefined();
    expect(body.data.qualityPillars.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.msg === 'supergraph refused; the previous one keeps serving')).toBe(true);
  });

  it('applies a good one without dropping a request in flight, and routing and authorization follow it', async () => {
    proxy.fault = { delayMs: 600 };
    const withProxy = composeSupergraph({ ...urls(), kwaliteit: proxy.url });
    // The in-flight request was planned on the old supergraph and finishes on it.
    const slowBefore = post<any>(federation, gateway.url, { query: '{ qualityPillars { number } providers(first: 1) { edges { node { id } } } }' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // New routing (kwaliteit through the proxy) and a stricter policy on qualityPillars.
    writeFileSync(
      file,
      withProxy.replace(/(qualityPillars: \[QualityPillar!\] @join__field\(graph: KWALITEIT\) @policy\(policies: \[\[)"aggregate"/, '$1"audit"'),
    );
    await waitFor(async () => (await metricValue(gateway.url, 'ketengraph_supergraph_reloads_total', { outcome: 'applied' })) > 0);
    const inFlight = await slowBefore;
    expect(inFlight.status).toBe(200);
    expect(inFlight.body.errors).toBeUndefined();
    proxy.fault = 'pass';
    const hits = proxy.hits;
    const after = await post<any>(federation, gateway.url, { query: '{ qualityPillars { number } qualityOverview(year: 2024) { __typename } }' });
    expect(after.body.data.qualityPillars).toBeNull();
    expect(after.body.errors!.map((e: any) => e.extensions.code)).toContain('UNAUTHORIZED_FIELD_OR_TYPE');
    expect(proxy.hits).toBeGreaterThan(hits);
  });
});
