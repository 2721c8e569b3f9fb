import type { Principal, WriteRecord } from '@ketengraph/service-kit';

/** Per-request context, created by the HTTP layer and read by the subgraph data sources. */
export interface GatewayContext {
  requestId: string;
  /** The caller, from the verified bearer token. */
  principal: Principal;
  /** Steps the subgraphs reported taking or refusing for this request (see audit/writes.ts). */
  writes?: WriteRecord[];
}
