import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  IsolatedCircuitError,
  retry,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import { subgraphCircuitState, subgraphRetries } from '../../observability/metrics.js';
import type { ResilienceConfig } from './config.js';
import { faultOf, SubgraphFault } from './faults.js';

/**
 * One subgraph's protection (cockatiel): a circuit breaker that opens after consecutive
 * failures, so calls to a dead subgraph fail at once instead of waiting for timeouts, and lets
 * one probe through after a pause; and, for idempotent fetches only (queries, never mutations),
 * retries with exponential backoff inside the breaker, so a retry never hammers an open circuit.
 */
export class SubgraphGuard {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly retry: RetryPolicy;

  constructor(
    readonly subgraph: string,
    config: ResilienceConfig,
  ) {
    // Only the subgraph's own faults count; a refused request passes through the breaker untouched.
    this.breaker = circuitBreaker(
      handleWhen((error) => error instanceof SubgraphFault && error.subgraphAtFault),
      { halfOpenAfter: config.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(config.breakerFailures) },
    );
    this.retry = retry(
      handleWhen((error) => error instanceof SubgraphFault && error.retryable),
      { maxAttempts: config.retries, backoff: new ExponentialBackoff({ initialDelay: config.retryDelayMs, maxDelay: config.retryDelayMs * 16 }) },
    );
    this.retry.onRetry(() => subgraphRetries.inc({ subgraph }));
    subgraphCircuitState.set({ subgraph }, 0);
    this.breaker.onStateChange((state) => subgraphCircuitState.set({ subgraph }, stateValue(state)));
  }

  /** Runs one fetch; a refused or failed call rejects with a SubgraphFault. */
  async run<T>(idempotent: boolean, call: () => Promise<T>): Promise<T> {
    const once = () =>
      this.breaker.execute(call).catch((error: unknown) => {
        if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) throw new SubgraphFault('circuit-open');
        throw faultOf(error);
      });
    return idempotent ? this.retry.execute(once) : once();
  }

  /** False while the circuit refuses calls (open); a half-open circuit is probing and counts as up. */
  get available(): boolean {
    return this.breaker.state !== CircuitState.Open && this.breaker.state !== CircuitState.Isolated;
  }

  get state(): 'closed' | 'half-open' | 'open' {
    return this.breaker.state === CircuitState.Closed ? 'closed' : this.breaker.state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }
}

function stateValue(state: CircuitState): number {
  return state === CircuitState.Closed ? 0 : state === CircuitState.HalfOpen ? 1 : 2;
}

/** The guards of all subgraphs, created on first use and kept across supergraph reloads (a reload must not reset an open circuit). */
export class SubgraphGuards {
  private readonly guards = new Map<string, SubgraphGuard>();
  constructor(private readonly config: ResilienceConfig) {}

  of(subgraph: string): SubgraphGuard {
    let guard = this.guards.get(subgraph);
    if (!guard) this.guards.set(subgraph, (guard = new SubgraphGuard(subgraph, this.config)));
    return guard;
  }
}
