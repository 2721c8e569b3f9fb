import { envSchema, envVariable, type EnvSpec, PEER_ENV, readEnv } from '@ketengraph/service-kit';

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

/** plaatsing's variables beyond every subgraph's (README: configuration). */
export const PLAATSING_ENV = {
  INDICATIESTELLING_URL: PEER_ENV.INDICATIESTELLING_URL,
  INDICATIESTELLING_TIMEOUT_MS: envVariable(envSchema.integer(1), 3000, '`3000`'),
  EVENT_RETENTION_DAYS: envVariable(envSchema.integer(1), DEFAULT_EVENT_RETENTION_DAYS, `\`${DEFAULT_EVENT_RETENTION_DAYS}\``),
} satisfies EnvSpec;

export function loadPlaatsingConfig(env: NodeJS.ProcessEnv = process.env): PlaatsingConfig {
  const values = readEnv(PLAATSING_ENV, env);
  return {
    indicatiestellingUrl: values.INDICATIESTELLING_URL,
    indicatiestellingTimeoutMs: values.INDICATIESTELLING_TIMEOUT_MS,
    eventRetentionDays: values.EVENT_RETENTION_DAYS,
  };
}
