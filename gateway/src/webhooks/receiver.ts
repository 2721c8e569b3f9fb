/**
 * One signed POST to a receiver: bounded by a timeout, no redirects followed (a 3xx is a
 * failure, so a receiver cannot bounce deliveries elsewhere), and the outcome reduced to a code.
 * Response bodies are never kept: a receiver's answer may contain personal data.
 */
import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { SignedHeaders } from './signing.js';

/** Addresses a receiver may not have unless allowed: loopback, private, link-local (cloud metadata), shared and unspecified ranges. */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');

export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return NON_PUBLIC.check(mapped, 'ipv4');
  return NON_PUBLIC.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Connections for deliveries when receivers must be public: the address is checked where the
 * connection is made, after DNS, so a name that resolves (or later re-resolves) to an internal
 * address is refused too.
 */
const publicOnly = new Agent({
  connect: {
    lookup(
      hostname: string,
      options: LookupOptions,
      callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
    ) {
      lookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, []);
        if (addresses.some((entry) => isNonPublicAddress(entry.address))) {
          return callback(Object.assign(new Error('receiver address is not public'), { code: 'ERR_NON_PUBLIC_ADDRESS' }), []);
        }
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    },
  },
});

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
