import type { Principal, WriteRecord } from '@ketengraph/service-kit';

/** Per-request context, created by the HTTP layer and read by the subgraph data sources. */
export interface GatewayContext {
  requestId: string;
  /** The caller, from the verified bearer token. */
  principal: Principal;
  /** Steps the subgraphs reported taking or refusing for this request (see audit/writes.ts). */
  writes?: WriteRecord[];
  /**
   * An event resolved once for several deliveries (same principal, selection and change; see
   * events/index.ts): the request ids of the others, each audited as a delivery of its own. The
   * access log seals the list when it writes, so a delivery joining later is resolved anew.
   */
  sharedWith?: { seal(): readonly string[] };
}
