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
