/** Settings of the placement event feed at the gateway (see the README's configuration table). */
export interface EventsConfig {
  /** EVENT_POLL_INTERVAL_MS: how often the gateway asks plaatsing for new events while anyone listens (default 250). */
  pollIntervalMs: number;
}
