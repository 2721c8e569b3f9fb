import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { AuthenticationError } from './authentication-error.js';
import { errorBody, httpStatusOf, type ErrorCode } from './error-codes.js';
import { errorDetails, serviceLogger, type Logger } from './logging.js';
import { metricsText } from './metrics.js';
import { continueTrace } from './tracing.js';

/**
 * A refusal at the HTTP layer (rate limit, unknown trusted document, batch too large): thrown
 * from `context` or `prepareBody`, answered with its status, headers and one GraphQL error.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * A small node:http integration for Apollo Server (the documented `executeHTTPGraphQLRequest`
 * extension point) with the operational routes every ketengraph process serves:
 * `/health` (process alive), `/ready` (able to serve), `/metrics` (Prometheus text).
 */
export interface HttpServiceOptions<Context extends BaseContext> {
  apollo: ApolloServer<Context>;
  /** Name in log lines, spans and metrics (`gateway`, `plaatsing`, ...). */
  service: string;
  port: number;
  host?: string;
  /** Path of the GraphQL endpoint. */
  path?: string;
  /** Largest request body accepted, in bytes; larger bodies get 413. */
  maxBodyBytes?: number;
  /** Rejecting with an AuthenticationError answers 401 UNAUTHENTICATED before the body is read. */
  context?: (request: IncomingMessage, requestId: string) => Promise<Context>;
  /**
   * Admits a GraphQL request whole instead of `context` and the body limits (the gateway's one
   * admission step, with its own batch size and trusted documents): the request's context, its parsed body and query string.
   * Reject with an AuthenticationError (401) or HttpError (its status and code) to refuse it.
   */
  admit?: (request: IncomingMessage, requestId: string) => Promise<{ context: Context; body: unknown; search: string }>;
  /**
   * Requests whose request line is logged at `debug` instead of `info`: the gateway's own
   * background reads (event feed, handover relay) poll every second or faster, and their lines
   * would bury the callers' requests.
   */
  quietRequest?: (context: Context) => boolean;
  /** Reasons the service cannot serve yet; empty when ready. */
  readiness: () => Promise<Record<string, boolean>>;
  /**
   * Services this one calls, reported on `/ready` under `dependencies` without deciding it: a
   * process that still answers (the gateway with partial data) stays in a load balancer's
   * rotation when one of them is down, instead of every instance leaving it at once.
   */
  dependencies?: () => Promise<Record<string, boolean>>;
  /** How long close() lets requests in flight finish before cutting their connections (default 5000 ms). */
  shutdownGraceMs?: number;
  /** Extra routes (method + path), answered before GraphQL. Return false to fall through. */
  routes?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean> | boolean;
}

export interface HttpService {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpService<Context extends BaseContext>(options: HttpServiceOptions<Context>): Promise<HttpService> {
  const path = options.path ?? '/graphql';
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const log = serviceLogger(options.service);
  const quiet = new WeakSet<IncomingMessage>();
  const server = createServer((request, response) => {
    const started = performance.now();
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    void continueTrace(options.service, request.method ?? 'GET', path, request.headers, (span) =>
      handle(request, response)
        .catch((error: unknown) => {
          const requestId = response.getHeader('x-request-id');
          log.error({ requestId, ...errorDetails(error) }, 'request failed');
          if (!response.headersSent)
            sendJson(response, 500, {
              errors: [
                {
                  message: `Internal server error (request ${requestId ?? 'unknown'}).`,
                  extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId },
                },
              ],
            });
          else response.destroy();
        })
        .finally(() => {
          span.setAttribute('http.response.status_code', response.statusCode);
          // Operational routes are polled constantly; their lines would drown the requests.
          if (path === '/health' || path === '/ready' || path === '/metrics') return;
          log[quiet.has(request) ? 'debug' : 'info'](
            {
              requestId: response.getHeader('x-request-id'),
              method: request.method,
              path,
              status: response.statusCode,
              ms: Math.round(performance.now() - started),
            },
            'request',
          );
        }),
    );
  });
  server.keepAliveTimeout = 65_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/health') return sendJson(response, 200, { status: 'ok' });
    if (url.pathname === '/ready') {
      const [checks, dependencies] = await Promise.all([options.readiness().catch(() => ({ readiness: false })), options.dependencies?.().catch(() => ({}))]);
      const ready = Object.values(checks).every(Boolean);
      return sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks, ...(dependencies ? { dependencies } : {}) });
    }
    if (url.pathname === '/metrics') {
      const text = await metricsText();
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(text);
      return;
    }
    if (options.routes && (await options.routes(request, response))) return;
    if (url.pathname !== path) return sendJson(response, 404, { error: 'not found' });

    const requestId = headerValue(request, 'x-request-id') ?? randomUUID();
    response.setHeader('x-request-id', requestId);
    let context: Context;
    let body: unknown;
    let search = url.search;
    try {
      if (options.admit) ({ context, body, search } = await options.admit(request, requestId));
      else {
        if (!options.context) throw new Error('startHttpService needs admit or context.');
        context = await options.context(request, requestId);
        if (request.method === 'POST') body = parseGraphQLBody(await readBody(request, maxBodyBytes), { maxBodyBytes });
        if (request.method === 'GET') checkGraphQLSearch(search);
      }
      if (options.quietRequest?.(context)) quiet.add(request);
    } catch (error) {
      if (sendRefusalOf(response, error, requestId, log)) return;
      throw error;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const result = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method ?? 'GET', headers, search, body },
      context: async () => context,
    });
    for (const [key, value] of result.headers) response.setHeader(key, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Stop accepting; idle keep-alive connections close now, busy ones after their response,
        // and whatever still hangs on after the grace period is cut.
        server.close(() => resolve());
        server.closeIdleConnections();
        const idle = setInterval(() => server.closeIdleConnections(), 250);
        const cut = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 5000);
        server.once('close', () => {
          clearInterval(idle);
          clearTimeout(cut);
        });
      }),
  };
}

export function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(payload));
}

/**
 * 401 with the one generic message: whether the token was missing, expired, forged or for
 * someone else, and what it claimed, stays in the server log.
 */
function sendUnauthenticated(response: ServerResponse, error: AuthenticationError, requestId: string | undefined, log: Logger): void {
  log.warn({ requestId, reason: error.reason, detail: error.detail }, 'unauthenticated request');
  const challenge = error.reason === 'missing-token' ? 'Bearer realm="ketengraph"' : 'Bearer realm="ketengraph", error="invalid_token"';
  response.setHeader('www-authenticate', challenge);
  sendRefusal(response, 'UNAUTHENTICATED', error.message);
}

/**
 * True when a string anywhere in the body holds a NUL character. No text in this domain contains
 * one, and PostgreSQL cannot store it: refused up front rather than failing in the database as
 * an internal error.
 */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 64 || typeof value !== 'object' || value === null) return false;
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (containsNul(item, depth + 1)) return true;
  return false;
}

/** A GraphQL escape for NUL inside a string literal of a document: `\u0000` or `\u{0}`. */
const NUL_ESCAPE = /\\u(?:0000|\{0+\})/i;

function escapesNul(body: unknown): boolean {
  return (Array.isArray(body) ? body : [body]).some(
    (operation) => typeof (operation as { query?: unknown } | null)?.query === 'string' && NUL_ESCAPE.test((operation as { query: string }).query),
  );
}

/** One GraphQL error with a registered code, answered with that code's HTTP status (or `status` where the code has none). */
export function sendRefusal(response: ServerResponse, code: ErrorCode, message: string, status = httpStatusOf(code) ?? 400): void {
  sendJson(response, status, errorBody(code, message));
}

function sendHttpError(response: ServerResponse, error: HttpError): void {
  for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
  sendRefusal(response, error.code, error.message, error.status);
}

/**
 * Answers a refused request: an AuthenticationError with 401 and its challenge, an HttpError with
 * its status, headers and code. False (nothing sent) for any other error.
 */
export function sendRefusalOf(response: ServerResponse, error: unknown, requestId: string | undefined, log: Logger): boolean {
  if (error instanceof AuthenticationError) sendUnauthenticated(response, error, requestId, log);
  else if (error instanceof HttpError) sendHttpError(response, error);
  else return false;
  return true;
}

/**
 * A GraphQL request body within the limits every process applies, parsed: at most `maxBodyBytes`
 * (413), valid JSON, no NUL character, at most `maxBatchSize` operations. Throws HttpError.
 */
export function parseGraphQLBody(raw: string | 'too-large', limits: { maxBodyBytes: number; maxBatchSize?: number | undefined }): unknown {
  if (raw === 'too-large') throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${limits.maxBodyBytes} bytes.`);
  let body: unknown;
  try {
    body = raw.length ? JSON.parse(raw) : {};
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'Request body is not valid JSON.');
  }
  if (containsNul(body) || escapesNul(body)) throw new HttpError(400, 'BAD_USER_INPUT', 'Text may not contain NUL characters.');
  const maxBatchSize = limits.maxBatchSize ?? 1;
  if (Array.isArray(body) && body.length > maxBatchSize)
    throw new HttpError(400, 'BATCH_TOO_LARGE', `A batch may hold at most ${maxBatchSize} operations; send the others separately.`);
  return body;
}

/** Refuses a GET request's query string with a NUL character in it (HttpError 400 BAD_USER_INPUT). */
export function checkGraphQLSearch(search: string): void {
  if (search && [...new URLSearchParams(search).values()].some((value) => value.includes('\u0000') || NUL_ESCAPE.test(value)))
    throw new HttpError(400, 'BAD_USER_INPUT', 'Text may not contain NUL characters.');
}

/** Reads a request body as text, up to `limit` bytes; beyond that the rest is drained and 'too-large' returned. */
export function readBody(request: IncomingMessage, limit: number): Promise<string | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
