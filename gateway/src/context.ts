/** Per-request context, created by the HTTP layer and read by the subgraph data sources. */
export interface GatewayContext {
  requestId: string;
  /** The caller, encoded for subgraphs (see service-kit's actor module). */
  actorHeader: string | undefined;
}
