/** How the gateway protects itself from slow or failing subgraphs; every value from the environment. */
export interface ResilienceConfig {
  /** SUBGRAPH_TIMEOUT_MS: one call to a subgraph, response body included (default 10000). */
  timeoutMs: number;
  /** SUBGRAPH_RETRIES: extra attempts for a failed query fetch, never for mutations (default 2). */
  retries: number;
  /** SUBGRAPH_RETRY_DELAY_MS: first backoff delay, doubled per attempt with jitter (default 50). */
  retryDelayMs: number;
  /** SUBGRAPH_BREAKER_FAILURES: consecutive failed calls that open a subgraph's circuit (default 5). */
  breakerFailures: number;
  /** SUBGRAPH_BREAKER_HALF_OPEN_MS: how long an open circuit refuses calls before one probe is let through (default 5000). */
  breakerHalfOpenMs: number;
  /** SUBGRAPH_MAX_RESPONSE_BYTES: largest subgraph response accepted (default 20 MB). */
  maxResponseBytes: number;
}
