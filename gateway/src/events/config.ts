/** Settings of the placement event feed at the gateway (see the README's configuration table). */
export interface EventsConfig {
  /** EVENT_POLL_INTERVAL_MS: how often the gateway asks plaatsing for new events while anyone listens (default 250). */
  pollIntervalMs: number;
}

export function loadEventsConfig(env: NodeJS.ProcessEnv): EventsConfig {
  const pollIntervalMs = Number(env.EVENT_POLL_INTERVAL_MS || 250);
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10 || pollIntervalMs > 60_000)
    throw new Error('EVENT_POLL_INTERVAL_MS must be an integer from 10 to 60000.');
  return { pollIntervalMs };
}
