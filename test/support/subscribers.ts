/**
 * Subscription clients as a partner system runs them — graphql-ws over `ws`, graphql-sse over
 * fetch — recording what arrives, for the subscription tests and the event benchmark.
 */
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface SubscriptionRequest {
  query: string;
  variables?: Record<string, unknown>;
}

export interface Subscriber<Result> {
  results: Result[];
  /** The terminal error (graphql-ws `error` message, or the close event), null while none. */
  failure: unknown;
  /** The WebSocket close code and reason, once closed. */
  closeCode: number | null;
  closeReason: string;
  completed: boolean;
  stop(): void;
}

function subscriberState<Result>(onResult?: (result: Result) => void) {
  const state: Subscriber<Result> = { results: [], failure: null, closeCode: null, closeReason: '', completed: false, stop: () => undefined };
  const sink = {
    next: (result: unknown) => {
      state.results.push(result as Result);
      onResult?.(result as Result);
    },
    error: (error: unknown) => void (state.failure = error),
    complete: () => void (state.completed = true),
  };
  return { state, sink };
}

/** Subscribes over WebSocket (`graphql-transport-ws`), the token in connectionParams; `onResult` sees each result as it arrives. */
export function wsSubscribe<Result = unknown>(
  gatewayUrl: string,
  token: string,
  request: SubscriptionRequest,
  onResult?: (result: Result) => void,
): Subscriber<Result> {
  const { state, sink } = subscriberState<Result>(onResult);
  const client = createWsClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined, // reported through the subscription's sink and `closed`
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        state.closeCode = code;
        state.closeReason = reason;
      },
    },
  });
  const unsubscribe = client.subscribe<never>({ query: request.query, variables: request.variables ?? {} }, sink);
  state.stop = () => {
    unsubscribe();
    void client.dispose();
  };
  return state;
}

/** Subscribes over Server-Sent Events, the token in the Authorization header. */
export function sseSubscribe<Result = unknown>(
  gatewayUrl: string,
  token: string,
  request: SubscriptionRequest,
  onResult?: (result: Result) => void,
): Subscriber<Result> {
  const { state, sink } = subscriberState<Result>(onResult);
  const client = createSseClient({ url: gatewayUrl, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const unsubscribe = client.subscribe<never>({ query: request.query, variables: request.variables ?? {} }, sink);
  state.stop = () => {
    unsubscribe();
    client.dispose();
  };
  return state;
}

/** Polls `condition` every 25 ms until it holds, or fails naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
