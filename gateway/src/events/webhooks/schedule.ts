/**
 * When a failed delivery is tried again: exponential backoff (base × 2^(attempt−1), capped) with
 * "equal jitter" — half the delay fixed, half random — so retries keep growing while receivers
 * that failed together are not all retried in the same instant.
 */
export interface RetryPolicy {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Delay after `attempts` failed attempts (1 = the first failed); `random` in [0, 1). */
export function retryDelayMs(policy: RetryPolicy, attempts: number, random: number = Math.random()): number {
  const exponential = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(exponential / 2 + (exponential / 2) * random);
}

/** Whether an event that has now failed `attempts` times goes to the dead letters instead of being retried. */
export function exhausted(policy: RetryPolicy, attempts: number): boolean {
  return attempts >= policy.maxAttempts;
}
