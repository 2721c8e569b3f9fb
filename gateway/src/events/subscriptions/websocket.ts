/**
 * `placementChanged` over WebSocket (the graphql-transport-ws protocol of graphql-ws) on the
 * gateway's `/graphql`. The token travels in `connectionParams: { authorization: 'Bearer …' }` and
 * is verified like an HTTP request's.
 *
 * Close codes: 4401 — the token is missing, invalid or expired (get a new token, reconnect,
 * resubscribe with your last cursor); 1012 — the gateway is restarting (reconnect, to any
 * instance, and resubscribe with your last cursor). Only subscriptions are served here: queries
 * and mutations go over HTTP, where all of the gateway's limits apply.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuthenticationError } from '@ketengraph/service-kit';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, parse, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Admission, Caller } from '../../admission/admit.js';
import type { PlacementChangeSubscriptions } from './placement-changes.js';

export const CLOSE_UNAUTHORIZED = CloseCode.Unauthorized; // 4401
export const CLOSE_SERVICE_RESTART = 1012;

export interface WebSocketOptions {
  server: Server;
  path: string;
  /** Largest message accepted (the HTTP body limit). */
  maxPayload: number;
  admission: Admission;
  subscriptions: PlacementChangeSubscriptions;
  apiSchema: () => GraphQLSchema;
}

interface Connection {
  id: string;
  subscriber: Caller;
  expiry: NodeJS.Timeout | null;
}

/** Bytes a client may have unsent before a message waits for its write again (backpressure for a slow client). */
const UNSENT_LIMIT = 1 << 20;

/**
 * graphql-ws sends a subscription's next message only when the previous one's write completed,
 * so every message was a system call of its own (at 100 subscribers × 50 changes/s, 5,000 a
 * second). Here a message counts as sent once queued while the client has little unsent, and
 * the messages of one turn of the event loop go out in one write; a slow client is waited for as
 * before. Order is kept (one socket); a failed write closes the socket, which ends its streams.
 */
export function coalesceWrites(ws: WebSocket, socket: Duplex): void {
  const send = ws.send.bind(ws) as (data: unknown, options?: unknown, cb?: (error?: Error) => void) => void;
  let corked = false;
  ws.send = ((data: unknown, options?: unknown, cb?: (error?: Error) => void) => {
    const callback = typeof options === 'function' ? (options as (error?: Error) => void) : cb;
    const opts = typeof options === 'function' ? {} : (options ?? {});
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    if (!callback || ws.bufferedAmount >= UNSENT_LIMIT) return send(data, opts, callback);
    send(data, opts);
    queueMicrotask(() => callback());
  }) as typeof ws.send;
}

export function attachWebSocketSubscriptions(options: WebSocketOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  const connections = new WeakMap<object, Connection>();

  // Only upgrades to the GraphQL path are ours; anything else is left to other listeners (or none).
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== options.path) return;
    wss.handleUpgrade(request, socket, head, (ws) => {
      coalesceWrites(ws, socket);
      wss.emit('connection', ws, request);
    });
  };
  options.server.on('upgrade', onUpgrade);

  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket as WebSocket;
        const authorization = typeof ctx.connectionParams?.authorization === 'string' ? ctx.connectionParams.authorization : undefined;
        let subscriber: Caller;
        try {
          subscriber = await options.admission.caller(authorization);
        } catch (error) {
          if (!(error instanceof AuthenticationError)) throw error;
          socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: send a valid bearer token as connectionParams.authorization');
          return false;
        }
        const connection: Connection = { id: randomUUID(), subscriber, expiry: null };
        const watchExpiry = () => {
          const left = subscriber.expiresAt - Date.now();
          if (left <= 0) socket.close(CLOSE_UNAUTHORIZED, 'Token expired: reconnect with a new token and resubscribe with your last cursor');
          // setTimeout overflows above ~24.8 days; a later expiry is checked again then.
          else connection.expiry = setTimeout(watchExpiry, Math.min(left, 2_147_483_647));
        };
        watchExpiry();
        connections.set(ctx, connection);
        return true;
      },
      onClose: (ctx: Context) => {
        const connection = connections.get(ctx);
        if (connection?.expiry) clearTimeout(connection.expiry);
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connections.get(ctx)!;
        const opened = await options.subscriptions.open({
          selection: { document: payload.query, variables: payload.variables, operationName: payload.operationName },
          principal: connection.subscriber.principal,
          // The connection is closed with 4401 when the token expires.
          expiresAt: Infinity,
          requestId: `${connection.id}:${id}`,
          extensions: payload.extensions,
        });
        if ('errors' in opened) return opened.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions ?? {} }));
        return {
          schema: options.apiSchema(),
          document: parse(payload.query),
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: opened,
        };
      },
      subscribe: (args) => (args.contextValue as { stream: AsyncIterable<FormattedExecutionResult> }).stream as never,
      // Results are already formatted by the gateway's pipeline (errors included).
      onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
    },
    wss,
  );

  return {
    async close() {
      options.server.off('upgrade', onUpgrade);
      const closed = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close(CLOSE_SERVICE_RESTART, 'Service restart: reconnect and resubscribe with your last cursor');
          }),
      );
      // A client that does not answer the close handshake is cut after a moment.
      const cut = setTimeout(() => wss.clients.forEach((ws) => ws.terminate()), 2000);
      await Promise.all(closed);
      clearTimeout(cut);
      await disposable.dispose();
    },
  };
}
