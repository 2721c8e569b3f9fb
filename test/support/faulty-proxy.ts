/**
 * A real HTTP server in front of a real subgraph that misbehaves on demand, the way a subgraph
 * fails in production: it hangs, answers 5xx with internal detail, resets the connection, answers
 * HTML or a non-GraphQL JSON shape, floods, or fails a given number of times before recovering;
 * or refuses the request as a subgraph refuses a caller's bad input (400 with a GraphQL error).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | 'pass'
  | 'refused'
  | 'hang'
  | 'status-500'
  | 'reset'
  | 'html'
  | 'bad-shape'
  | 'oversized'
  | 'codeless-error'
  | { failTimes: number; status: number }
  | { delayMs: number }
  | { bodyIncludes: string; status: number };

export interface FaultyProxy {
  url: string;
  /** Requests that reached the proxy since start. */
  hits: number;
  /** What the next requests get. */
  fault: Fault;
  close(): Promise<void>;
}

/** The body a failing subgraph answers with: details no client may ever see. */
export const INTERNAL_DETAIL = 'ECONNREFUSED 10.0.0.7:5432 at /srv/kwaliteit/src/db.ts:42 patient Jansen';

export async function startFaultyProxy(target: string, options: { oversizedBytes?: number } = {}): Promise<FaultyProxy> {
  const sockets = new Set<Socket>();
  const proxy: FaultyProxy = { url: '', hits: 0, fault: 'pass', close: async () => undefined };
  const server = createServer((request, response) => {
    proxy.hits++;
    void answer(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const fault = proxy.fault;
    if (typeof fault === 'object' && 'bodyIncludes' in fault) {
      // Fails only the calls whose body holds the text (one kind of query), passing the rest.
      if (Buffer.concat(chunks).toString('utf8').includes(fault.bodyIncludes)) {
        response.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: INTERNAL_DETAIL }));
        return;
      }
    } else if (typeof fault === 'object' && 'delayMs' in fault) {
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs)); // slow, then a normal answer
    } else if (typeof fault === 'object') {
      if (fault.failTimes > 0) {
        fault.failTimes--;
        response.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: INTERNAL_DETAIL }));
        return;
      }
    } else if (fault === 'refused' && request.method === 'POST') {
      // What Apollo Server answers for a value its validation or variable coercion refuses: the caller's error, not a fault.
      response
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ message: 'That Date does not exist in the calendar.', extensions: { code: 'BAD_USER_INPUT' } }] }));
      return;
    } else if (fault === 'hang') {
      return; // never answers; the gateway's deadline must end the wait
    } else if (fault === 'status-500') {
      response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: INTERNAL_DETAIL }] }));
      return;
    } else if (fault === 'reset') {
      request.socket.destroy();
      return;
    } else if (fault === 'html') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body>${INTERNAL_DETAIL}</body></html>`);
      return;
    } else if (fault === 'bad-shape') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [INTERNAL_DETAIL] }));
      return;
    } else if (fault === 'codeless-error') {
      // A GraphQL answer with an error the subgraph did not mean to send (no code): a bug's message.
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: { qualityPillars: null }, errors: [{ message: INTERNAL_DETAIL, path: ['qualityPillars'] }] }));
      return;
    } else if (fault === 'oversized') {
      const size = options.oversizedBytes ?? 5_000_000;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data: { padding: 'x'.repeat(size) } }));
      return;
    }
    const forwarded = await fetch(new URL(request.url ?? '/', target), {
      method: request.method,
      headers: Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'content-length' && name !== 'connection'),
      ) as Record<string, string>,
      body: request.method === 'POST' ? Buffer.concat(chunks) : undefined,
    });
    response.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'application/json' });
    response.end(Buffer.from(await forwarded.arrayBuffer()));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
