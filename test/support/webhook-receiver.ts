/**
 * A partner's webhook receiver on a real socket: it verifies every request with the
 * `standardwebhooks` package (as a partner would), answers the verification handshake, and can
 * misbehave on purpose (500, hang past the sender's timeout, reset the connection).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type Behaviour = 'ok' | 'fail' | 'hang' | 'reset' | 'wrong-challenge';

export interface ReceivedRequest {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body, as returned by `Webhook.verify`; undefined when verification failed. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
  /** Which of the path's known secrets verified the signature. */
  verifiedBy: string[];
  at: number;
  answered: Behaviour;
}

export interface Receiver {
  url(path: string): string;
  /** Secrets the receiver checks signatures with, per path. */
  trust(path: string, ...secrets: string[]): void;
  /** How to answer the `attempt`-th request (0-based) carrying one webhook-id on a path. */
  behave(path: string, decide: (attempt: number) => Behaviour): void;
  /** Event deliveries (not handshakes) on a path, in arrival order. */
  events(path: string): ReceivedRequest[];
  all(): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  const secrets = new Map<string, string[]>();
  const behaviours = new Map<string, (attempt: number) => Behaviour>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const headers = {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      };
      let payload: ReceivedRequest['payload'];
      const verifiedBy: string[] = [];
      for (const secret of secrets.get(path) ?? []) {
        try {
          payload = new Webhook(secret).verify(body, headers) as ReceivedRequest['payload'];
          verifiedBy.push(secret);
        } catch {
          // not signed with this one
        }
      }
      const attempt = received.filter((r) => r.path === path && r.id === headers['webhook-id']).length;
      const verification = payload?.type === 'webhook.verification';
      const decided = behaviours.get(path)?.(attempt) ?? 'ok';
      const answered: Behaviour = !verification && decided === 'wrong-challenge' ? 'ok' : decided;
      received.push({
        path,
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        payload,
        verifiedBy,
        at: Date.now(),
        answered,
      });
      if (!payload) {
        response.writeHead(401).end();
        return;
      }
      switch (answered) {
        case 'ok':
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(verification ? JSON.stringify({ challenge: payload.data.challenge }) : '{}');
          return;
        case 'wrong-challenge':
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ challenge: 'not-it' }));
          return;
        case 'fail':
          response.writeHead(500).end('receiver down');
          return;
        case 'hang':
          // Answer far too late: the sender has given up by then.
          setTimeout(() => response.writeHead(200).end(), 5000).unref();
          return;
        case 'reset':
          request.socket.destroy();
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    trust: (path, ...list) => secrets.set(path, list),
    behave: (path, decide) => behaviours.set(path, decide),
    events: (path) => received.filter((r) => r.path === path && r.payload?.type !== 'webhook.verification'),
    all: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it returns something truthy, or fails after `timeoutMs`. */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 15_000, what = 'condition'): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
