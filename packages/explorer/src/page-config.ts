/**
 * What the gateway tells the explorer page (embedded in its HTML as JSON): shared by the
 * gateway (server side) and the browser bundle, so both agree on one shape.
 */
export interface ExplorerPageConfig {
  /** Path of the GraphQL endpoint (HTTP); subscriptions use the same path over WebSocket (graphql-ws). */
  endpoint: string;
  /** Where development tokens for the sample users are minted; null when the gateway mints none (production, or an external identity provider). */
  devTokenPath: string | null;
  sampleUsers: ExplorerSampleUser[];
  examples: ExplorerExample[];
  /** URLs of the Monaco editor's web workers, by the label Monaco asks for. */
  workers: Record<WorkerLabel, string>;
}

export type WorkerLabel = 'editor' | 'json' | 'graphql';

export interface ExplorerSampleUser {
  id: string;
  /** Dutch term first, then English. */
  label: string;
  /** What this user may see, and a patient to try. */
  description: string;
}

export interface ExplorerExample {
  name: string;
  title: string;
  query: string;
  /** JSON text for the variables editor. */
  variables: string;
}

/** The answer of the development token route. */
export interface DevTokenResponse {
  token: string;
  expiresInSeconds: number;
}

export const EXPLORER_PATH = '/explorer';
export const DEV_TOKEN_PATH = `${EXPLORER_PATH}/dev-token`;
export const ASSETS_PATH = `${EXPLORER_PATH}/assets`;
/** The element of the page holding the ExplorerPageConfig as JSON. */
export const CONFIG_ELEMENT_ID = 'explorer-config';
