/**
 * The load generator, run as its own process so that it does not share a CPU queue with the
 * gateway it measures. Reads a job (JSON) from the file named in argv (500 bodies are far over
 * the kernel's limit for one argument), prints the result (JSON) on stdout.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  bodies: string[];
  connections: number;
  durationSeconds: number;
  headers?: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Transport errors, timeouts, non-2xx responses and responses carrying GraphQL errors. */
  errors: number;
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadJob;
const latencies: number[] = [];
let graphqlErrors = 0;
let next = 0;

const instance = autocannon(
  {
    url: job.url,
    connections: job.connections,
    duration: job.durationSeconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...job.headers },
    requests: [
      {
        setupRequest: (request) => ({ ...request, method: 'POST', body: job.bodies[next++ % job.bodies.length] }),
        onResponse: (_status, body) => {
          if (body.includes('"errors"')) graphqlErrors++;
        },
      },
    ],
  },
  (error, result) => {
    if (error) throw error;
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    const output: LoadResult = {
      requests: result.requests.total,
      requestsPerSecond: result.requests.total / result.duration,
      latencyMs: { p50: at(50), p95: at(95), p99: at(99), max: latencies[latencies.length - 1] ?? 0 },
      errors: result.errors + result.timeouts + result.non2xx + graphqlErrors,
    };
    process.stdout.write(JSON.stringify(output));
  },
);
instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
