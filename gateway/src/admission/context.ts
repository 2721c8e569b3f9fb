import type { Principal, WriteRecord } from '@ketengraph/service-kit';

/** Per-request context, created by the HTTP layer and read by the subgraph data sources. */
export interface GatewayContext {
  requestId: string;
  /** The caller, from the verified bearer token. */
  principal: Principal;
  /** Steps the subgraphs reported taking or refusing for this request (see audit/writes.ts). */
  writes?: WriteRecord[];
  /**
   * Placement changes resolved in one operation for several receivers (events/resolve.ts): the
   * response key of the list of changes, and per list index who receives that change. Each
   * receiver's delivery is audited as an access of its own, under its name and request id; the
   * request itself is no delivery.
   */
  deliveries?: { key: string; receivers: readonly (readonly { requestId: string; principal: Principal }[])[] };
}
