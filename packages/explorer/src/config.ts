/** The explorer's configuration, part of the gateway's (gateway/src/config/ composes it). */
export interface ExplorerConfig {
  /** EXPLORER_ENABLED: serve GraphiQL at /explorer (default: on, off with NODE_ENV=production). */
  enabled: boolean;
}

export function loadExplorerConfig(env: NodeJS.ProcessEnv): ExplorerConfig {
  const value = env.EXPLORER_ENABLED;
  if (value === undefined || value === '') return { enabled: env.NODE_ENV !== 'production' };
  if (value === 'true') return { enabled: true };
  if (value === 'false') return { enabled: false };
  throw new Error('EXPLORER_ENABLED must be true or false.');
}
