/**
 * The gateway's configuration: one typed object read from the environment once. The README's
 * configuration table lists the same variables with the same defaults.
 */
import { SUBGRAPHS, SUPERGRAPH_FILE } from '../../schema/subgraphs.js';

export interface GatewayConfig {
  /** PORT: port of the GraphQL endpoint (default 4000). */
  port: number;
  /** HOST: interface to listen on (default 127.0.0.1). */
  host: string;
  /** SUPERGRAPH_FILE: composed supergraph to serve (default schema/supergraph.graphql). */
  supergraphFile: string;
  /** Supergraph SDL given directly (tests); takes precedence over the file. */
  supergraphSdl?: string;
  /** <SUBGRAPH>_URL (e.g. PLAATSING_URL): routing overrides for the URLs in the supergraph. */
  subgraphUrls: Record<string, string>;
  /** MAX_BODY_BYTES: largest request body accepted (default 1 MB). */
  maxBodyBytes: number;
}

export function envNameOf(subgraph: string): string {
  return `${subgraph.toUpperCase().replaceAll('-', '_')}_URL`;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const subgraphUrls: Record<string, string> = {};
  for (const { name } of SUBGRAPHS) {
    const url = env[envNameOf(name)];
    if (url) subgraphUrls[name] = url;
  }
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0) throw new Error('PORT must be a port number.');
  const maxBodyBytes = Number(env.MAX_BODY_BYTES ?? 1_000_000);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new Error('MAX_BODY_BYTES must be a positive integer.');
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    supergraphFile: env.SUPERGRAPH_FILE ?? SUPERGRAPH_FILE,
    subgraphUrls,
    maxBodyBytes,
  };
}
