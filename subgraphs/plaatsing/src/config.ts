import { peerSubgraphUrl } from '@ketengraph/service-kit';

/** plaatsing's own settings beyond the kit's (see the README's configuration table). */
export interface PlaatsingConfig {
  /** INDICATIESTELLING_URL: GraphQL endpoint of indicatiestelling, asked whether a placement fits the indication. */
  indicatiestellingUrl: string;
  /** INDICATIESTELLING_TIMEOUT_MS: how long to wait for it before refusing with DEPENDENCY_UNAVAILABLE (default 3000). */
  indicatiestellingTimeoutMs: number;
  /**
   * EVENT_RETENTION_DAYS: how far back the event feed replays (default 30); a cursor with older
   * events after it gets CURSOR_EXPIRED. Placement history is kept regardless.
   */
  eventRetentionDays?: number;
}

export const DEFAULT_EVENT_RETENTION_DAYS = 30;

export function loadPlaatsingConfig(env: NodeJS.ProcessEnv = process.env): PlaatsingConfig {
  const timeout = Number(env.INDICATIESTELLING_TIMEOUT_MS || 3000);
  if (!Number.isInteger(timeout) || timeout <= 0) throw new Error('INDICATIESTELLING_TIMEOUT_MS must be a positive integer.');
  const retention = Number(env.EVENT_RETENTION_DAYS || DEFAULT_EVENT_RETENTION_DAYS);
  if (!Number.isInteger(retention) || retention <= 0) throw new Error('EVENT_RETENTION_DAYS must be a positive integer.');
  return {
    indicatiestellingUrl: peerSubgraphUrl('indicatiestelling', env),
    indicatiestellingTimeoutMs: timeout,
    eventRetentionDays: retention,
  };
}
