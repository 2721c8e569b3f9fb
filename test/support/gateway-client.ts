import type { Federation, GraphQLResponse } from './federation.js';
import { TEST_PRINCIPAL } from './federation.js';
import type { Principal } from '@ketengraph/service-kit';

/** POSTs to any gateway of a federation (e.g. one started with other settings), returning status, headers and body. */
export async function post<T = Record<string, unknown>>(
  federation: Federation,
  url: string,
  body: unknown,
  options: { principal?: Principal; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: GraphQLResponse<T> & Record<string, unknown>; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await federation.callerToken(options.principal ?? TEST_PRINCIPAL)}`,
      ...options.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = {};
  }
  return { status: response.status, headers: response.headers, body: parsed as never, text };
}

/** The value of one Prometheus series on a gateway's /metrics (0 when absent). */
export async function metricValue(gatewayUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(new URL('/metrics', gatewayUrl))).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
