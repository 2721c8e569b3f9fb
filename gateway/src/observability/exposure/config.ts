/**
 * What the gateway reveals and accepts beyond registered operations. NODE_ENV=production turns
 * each to its closed setting; every one can still be set on its own.
 */
export interface ExposureConfig {
  /** INTROSPECTION: answer `__schema`/`__type` (default: on in development, off in production). */
  introspection: boolean;
  /** FIELD_SUGGESTIONS: "Did you mean …" in validation errors (default: on in development, off in production). */
  fieldSuggestions: boolean;
  /** TRUSTED_DOCUMENTS: only operations in the generated allow-list are executed (default: off in development, on in production). */
  trustedDocuments: boolean;
  /** AUTOMATIC_PERSISTED_QUERIES: clients may register new documents by hash (default off). */
  automaticPersistedQueries: boolean;
}

export function loadExposureConfig(env: NodeJS.ProcessEnv): ExposureConfig {
  const production = env.NODE_ENV === 'production';
  return {
    introspection: flag(env, 'INTROSPECTION', !production),
    fieldSuggestions: flag(env, 'FIELD_SUGGESTIONS', !production),
    trustedDocuments: flag(env, 'TRUSTED_DOCUMENTS', production),
    automaticPersistedQueries: flag(env, 'AUTOMATIC_PERSISTED_QUERIES', false),
  };
}

export function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1' || raw === 'on') return true;
  if (raw === 'false' || raw === '0' || raw === 'off') return false;
  throw new Error(`${name} must be true or false.`);
}
