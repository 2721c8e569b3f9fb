import { HttpError } from '@ketengraph/service-kit';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimited } from '../../observability/metrics.js';

export interface RateLimitConfig {
  /** RATE_LIMIT_PER_SECOND: sustained requests per second per organisation (default 100; 0 turns rate limiting off). */
  perSecond: number;
  /** RATE_LIMIT_BURST: requests above that rate an organisation may make per RATE_LIMIT_BURST_SECONDS (default 300). */
  burst: number;
  /** RATE_LIMIT_BURST_SECONDS: window over which the burst allowance refills (default 10). */
  burstSeconds: number;
}

/**
 * Requests per organisation (rate-limiter-flexible, in this process): a steady rate plus a burst
 * allowance that refills over its window (BurstyRateLimiter), the token bucket's behaviour.
 * Over both, the request is refused with 429, `Retry-After` and RATE_LIMITED before its body is read.
 */
export function organisationRateLimiter(config: RateLimitConfig): (organisationId: string) => Promise<void> {
  if (config.perSecond === 0) return async () => undefined;
  const steady = new RateLimiterMemory({ keyPrefix: 'org', points: config.perSecond, duration: 1 });
  const burst = new RateLimiterMemory({ keyPrefix: 'org-burst', points: Math.max(config.burst, 1), duration: config.burstSeconds });
  const limiter = config.burst > 0 ? new BurstyRateLimiter(steady, burst) : steady;
  return async (organisationId) => {
    try {
      await limiter.consume(organisationId);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      rateLimited.inc();
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new HttpError(429, 'RATE_LIMITED', `Too many requests for your organisation; retry after ${seconds} s.`, { 'retry-after': String(seconds) });
    }
  };
}
