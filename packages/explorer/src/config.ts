/** The explorer's configuration, part of the gateway's (gateway/src/config/ composes it). */
export interface ExplorerConfig {
  /** EXPLORER_ENABLED: serve GraphiQL at /explorer (default: on, off with NODE_ENV=production). */
  enabled: boolean;
}
