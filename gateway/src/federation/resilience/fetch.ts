import { Agent, errors, request } from 'undici';
import { SubgraphFault } from './faults.js';

/** The part of a fetch Response that @apollo/gateway's RemoteGraphQLDataSource and ours read. */
export interface SubgraphResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly redirected: false;
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type SubgraphFetch = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<SubgraphResponse>;

/**
 * Subgraph calls over undici's `request` (the HTTP client inside Node's fetch, without the
 * WHATWG streams fetch builds for every call, which cost the gateway more CPU than the rest of
 * a subgraph call): keep-alive connections pooled per origin, a deadline for the whole
 * exchange, body included, and a bound on the response size, so a subgraph that hangs, drips or
 * floods costs at most `timeoutMs` and `maxResponseBytes`. Failures come out as SubgraphFault.
 * The body is read whole here, so the gateway's JSON parsing cannot outlast the deadline.
 */
export function boundedFetch(options: { timeoutMs: number; maxResponseBytes: number }): SubgraphFetch {
  const agent = new Agent({ keepAliveTimeout: 30_000, maxResponseSize: options.maxResponseBytes });
  return async (url, init) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await request(url, { method: (init.method ?? 'POST') as 'POST', headers: init.headers, body: init.body, signal, dispatcher: agent });
      const body = Buffer.from(await response.body.arrayBuffer());
      return bufferedResponse(url, response.statusCode, response.headers, body);
    } catch (error) {
      throw faultOfRequest(error, signal);
    }
  };
}

function bufferedResponse(url: string, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): SubgraphResponse {
  const header = (name: string) => {
    const value = headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  };
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: '',
    url,
    redirected: false,
    headers: { get: header, has: (name) => header(name) !== null },
    text: async () => body.toString('utf8'),
    // A body that is not JSON throws a SyntaxError, which faultOf reads as a malformed answer.
    json: async () => JSON.parse(body.toString('utf8')) as unknown,
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
  };
}

function faultOfRequest(error: unknown, signal: AbortSignal): SubgraphFault {
  if (signal.aborted) return new SubgraphFault('timeout');
  if (error instanceof errors.ResponseExceededMaxSizeError) return new SubgraphFault('oversized');
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError || error instanceof errors.ConnectTimeoutError)
    return new SubgraphFault('timeout');
  // Refused, reset or closed connections, malformed HTTP: the subgraph could not be talked to.
  if (error instanceof errors.UndiciError || (error instanceof Error && typeof (error as { code?: unknown }).code === 'string'))
    return new SubgraphFault('connection');
  return new SubgraphFault('internal');
}
