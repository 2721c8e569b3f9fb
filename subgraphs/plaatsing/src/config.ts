/** plaatsing's own settings beyond the kit's (see the README's configuration table). */
export interface PlaatsingConfig {
  /** INDICATIESTELLING_URL: GraphQL endpoint of indicatiestelling, asked whether a placement fits the indication. */
  indicatiestellingUrl: string;
  /** INDICATIESTELLING_TIMEOUT_MS: how long to wait for it before refusing with DEPENDENCY_UNAVAILABLE (default 3000). */
  indicatiestellingTimeoutMs: number;
}

export function loadPlaatsingConfig(env: NodeJS.ProcessEnv = process.env): PlaatsingConfig {
  const timeout = Number(env.INDICATIESTELLING_TIMEOUT_MS || 3000);
  if (!Number.isInteger(timeout) || timeout <= 0) throw new Error('INDICATIESTELLING_TIMEOUT_MS must be a positive integer.');
  return {
    indicatiestellingUrl: env.INDICATIESTELLING_URL || 'http://127.0.0.1:4001/graphql',
    indicatiestellingTimeoutMs: timeout,
  };
}
