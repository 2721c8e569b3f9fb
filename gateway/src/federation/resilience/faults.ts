/** Why a call to a subgraph failed, as counted in metrics and logged; never sent to clients beyond "unavailable". */
export type FaultReason = 'timeout' | 'connection' | 'http-status' | 'malformed' | 'oversized' | 'circuit-open' | 'internal';

/** A subgraph call that failed in transport or shape (not a GraphQL error the subgraph answered with). */
export class SubgraphFault extends Error {
  override name = 'SubgraphFault';
  constructor(
    readonly reason: FaultReason,
    /** HTTP status for `http-status`. */
    readonly status?: number,
  ) {
    super(`subgraph call failed: ${reason}${status ? ` ${status}` : ''}`);
  }

  /**
   * The subgraph's own fault: it could not be reached, missed its deadline, answered 5xx or
   * something that is not a GraphQL response. Only these count towards its circuit breaker and
   * its readiness; a 4xx answer (the request, built from the caller's input, was refused) and
   * the gateway's own failures ('internal', 'circuit-open') do not, so no caller can switch a
   * subgraph off for everyone by sending bad input.
   */
  get subgraphAtFault(): boolean {
    if (this.reason === 'http-status') return this.status === undefined || this.status >= 500;
    return this.reason === 'timeout' || this.reason === 'connection' || this.reason === 'malformed' || this.reason === 'oversized';
  }

  /** Worth another attempt: the next one may find the subgraph back (a restart, a dropped connection). */
  get retryable(): boolean {
    if (this.reason === 'http-status') return this.status !== undefined && this.status >= 500;
    return this.reason === 'timeout' || this.reason === 'connection' || this.reason === 'malformed';
  }
}

/** Maps what a call threw (undici's TypeError with a cause, an AbortSignal timeout, a broken body) to a fault. */
export function faultOf(error: unknown): SubgraphFault {
  if (error instanceof SubgraphFault) return error;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return new SubgraphFault('timeout');
  if (error instanceof TypeError) return new SubgraphFault('connection');
  // A JSON body cut off or not JSON at all surfaces as a SyntaxError from response.json().
  if (error instanceof SyntaxError) return new SubgraphFault('malformed');
  // Anything else failed in the gateway itself (e.g. signing the subgraph token): not the subgraph's fault, not retried.
  return new SubgraphFault('internal');
}
