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

export function loadResilienceConfig(env: NodeJS.ProcessEnv): ResilienceConfig {
  return {
    timeoutMs: positiveInteger(env, 'SUBGRAPH_TIMEOUT_MS', 10_000),
    retries: positiveInteger(env, 'SUBGRAPH_RETRIES', 2, 0),
    retryDelayMs: positiveInteger(env, 'SUBGRAPH_RETRY_DELAY_MS', 50),
    breakerFailures: positiveInteger(env, 'SUBGRAPH_BREAKER_FAILURES', 5),
    breakerHalfOpenMs: positiveInteger(env, 'SUBGRAPH_BREAKER_HALF_OPEN_MS', 5000),
    maxResponseBytes: positiveInteger(env, 'SUBGRAPH_MAX_RESPONSE_BYTES', 20_000_000),
  };
}

/** An integer setting of at least `min` (1 unless said), or the default when unset. */
export function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}.`);
  return value;
}
