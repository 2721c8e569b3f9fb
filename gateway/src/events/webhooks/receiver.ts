/**
 * One signed POST to a receiver: bounded by a timeout, no redirects followed (a 3xx is a
 * failure, so a receiver cannot bounce deliveries elsewhere), and the outcome reduced to a code.
 * Response bodies are never kept: a receiver's answer may contain personal data.
 */
import { publicOnlyLookup } from '@ketengraph/service-kit';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { SignedHeaders } from './signing.js';

/** Connections for deliveries when receivers must be public (see publicOnlyLookup in the kit). */
const publicOnly = new Agent({ connect: { lookup: publicOnlyLookup('receiver') } });

export function receiverDispatcher(allowPrivateAddresses: boolean): Dispatcher | undefined {
  return allowPrivateAddresses ? undefined : publicOnly;
}

export type PostOutcome = { ok: true; status: number; body: string | undefined } | { ok: false; error: string };

export async function postSigned(
  url: string,
  body: string,
  headers: SignedHeaders,
  options: { timeoutMs: number; signal?: AbortSignal; readBody?: boolean; dispatcher?: Dispatcher | undefined },
): Promise<PostOutcome> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'ketengraph-webhooks', ...headers },
      body,
      redirect: 'manual',
      signal,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: false, error: `http_${response.status}` };
    }
    if (options.readBody) return { ok: true, status: response.status, body: (await response.text()).slice(0, 10_000) };
    await response.body?.cancel().catch(() => undefined);
    return { ok: true, status: response.status, body: undefined };
  } catch (error) {
    if (timeout.aborted) return { ok: false, error: 'timeout' };
    if (options.signal?.aborted) return { ok: false, error: 'aborted' };
    return { ok: false, error: connectionError(error) };
  }
}

/** fetch wraps the socket error in `cause`; its code says what kind of failure it was. */
function connectionError(error: unknown): string {
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'connection_reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns_failed';
  if (code === 'ERR_NON_PUBLIC_ADDRESS') return 'non_public_address';
  return 'connection_failed';
}
