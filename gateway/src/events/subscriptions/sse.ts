/**
 * `placementChanged` over Server-Sent Events (the graphql-sse protocol) on the gateway's
 * `/graphql`: requests that accept `text/event-stream` (and graphql-sse's single-connection
 * reservations) come here, everything else goes on to the HTTP GraphQL endpoint. The token is
 * the `Authorization` header, verified like any request's.
 *
 * An SSE stream cannot carry a close code, so a stream that ends for a reason sends one last
 * `next` event with `errors` (UNAUTHENTICATED when the token expired, SHUTTING_DOWN on restart,
 * CURSOR_EXPIRED, ...) and then `complete`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendRefusalOf, serviceLogger } from '@ketengraph/service-kit';
import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse';
import type { Admission, Caller } from '../../admission/admit.js';
import type { PlacementChangeSubscriptions } from './placement-changes.js';

export interface SseOptions {
  path: string;
  admission: Admission;
  subscriptions: PlacementChangeSubscriptions;
}

interface RequestContext {
  subscriber: Caller;
  id: string;
}

const log = serviceLogger('gateway');

/** The last result of a stream that ended with an error, then the end. */
function errorsAsLastResult(
  stream: AsyncIterableIterator<FormattedExecutionResult>,
): AsyncIterableIterator<FormattedExecutionResult> & { throw(): Promise<IteratorResult<FormattedExecutionResult>> } {
  let failed = false;
  const iterator = {
    async next(): Promise<IteratorResult<FormattedExecutionResult>> {
      if (failed) return { value: undefined, done: true };
      try {
        return await stream.next();
      } catch (error) {
        failed = true;
        const formatted =
          error instanceof GraphQLError ? error.toJSON() : { message: 'The subscription ended.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
        return { value: { data: null, errors: [formatted] }, done: false };
      }
    },
    return: () => stream.return!(),
    throw: () => stream.return!(),
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

export function createSseRoute(options: SseOptions): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const handler = createHandler<IncomingMessage, RequestContext>({
    onSubscribe: async (request, params) => {
      const { subscriber, id } = request.context;
      const opened = await options.subscriptions.open({
        selection: { document: params.query, variables: params.variables, operationName: params.operationName },
        principal: subscriber.principal,
        expiresAt: subscriber.expiresAt,
        requestId: id,
        extensions: params.extensions,
      });
      if ('errors' in opened) return { data: null, errors: opened.errors } as never;
      return errorsAsLastResult(opened.stream) as never;
    },
  });

  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== options.path) return false;
    const accept = request.headers.accept ?? '';
    const isSse =
      accept.includes('text/event-stream') ||
      request.headers['x-graphql-event-stream-token'] !== undefined ||
      request.method === 'PUT' ||
      request.method === 'DELETE';
    if (!isSse) return false;

    let admitted: Awaited<ReturnType<Admission['stream']>>;
    try {
      admitted = await options.admission.stream(request);
    } catch (error) {
      // The refusals of any request: 401 with its challenge, 413, 400.
      if (sendRefusalOf(response, error, undefined, log)) return true;
      throw error;
    }
    const { caller: subscriber, body } = admitted;
    const [stream, init] = await handler({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers: {
        get(key: string) {
          const value = request.headers[key];
          // graphql-sse compares the accept header exactly; a client listing more types still means SSE here.
          if (key === 'accept' && typeof value === 'string' && value.includes('text/event-stream')) return 'text/event-stream';
          return Array.isArray(value) ? value.join('\n') : value;
        },
      },
      body,
      raw: request,
      context: { subscriber, id: randomUUID() },
    });
    response.writeHead(init.status, init.statusText, init.headers);
    if (!stream || typeof stream === 'string') {
      response.end(stream);
      return true;
    }
    const stop = () => void stream.return(undefined);
    response.once('close', stop);
    for await (const chunk of stream) {
      if (!response.writable) break;
      response.write(chunk);
    }
    response.off('close', stop);
    response.end();
    return true;
  };
}
