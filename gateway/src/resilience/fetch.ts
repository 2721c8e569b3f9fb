import { faultOf, SubgraphFault } from './faults.js';

export type SubgraphFetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Node's fetch (undici: keep-alive connections pooled per origin by its global dispatcher) with
 * a deadline for the whole exchange, body included, and a bound on the response size: a subgraph
 * that hangs, drips or floods costs at most `timeoutMs` and `maxResponseBytes`. Failures come out
 * as SubgraphFault. The body is buffered here, so the gateway's JSON parsing cannot outlast the deadline.
 */
export function boundedFetch(options: { timeoutMs: number; maxResponseBytes: number }): SubgraphFetch {
  return async (url, init) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await fetch(url, { ...init, signal });
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > options.maxResponseBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new SubgraphFault('oversized');
      }
      // A declared length (Apollo Server's answers) was checked above and is enforced by fetch; only a streamed body is counted.
      const body = response.headers.has('content-length') ? new Uint8Array(await response.arrayBuffer()) : await readBounded(response, options.maxResponseBytes);
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      throw faultOf(error);
    }
  };
}

async function readBounded(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      throw new SubgraphFault('oversized');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
