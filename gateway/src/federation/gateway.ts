import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { GATEWAY_SUBGRAPHS } from '../../../schema/subgraphs.js';
import type { SubgraphTokens } from '../auth/subgraph-tokens.js';
import type { GatewayConfig } from '../config.js';
import { SubgraphDataSource } from './data-source.js';

/**
 * ketengraph's wrapper around @apollo/gateway: query planning and execution are Apollo's; the
 * supergraph source, subgraph routing and transport are ours. Later concerns (authorization,
 * subscriptions) hook in here rather than forking the gateway.
 */
export function createFederation(config: GatewayConfig, tokens: SubgraphTokens): ApolloGateway {
  const supergraphSdl = config.supergraphSdl ?? readFileSync(config.supergraphFile, 'utf8');
  return new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => new SubgraphDataSource({ url: config.subgraphUrls[name] ?? url, fetcher: fetch as never }, tokens),
  });
}

/** The subgraphs of the loaded supergraph with the URLs the gateway routes to (not those the gateway serves itself). */
export function subgraphEndpoints(config: GatewayConfig): { name: string; url: string }[] {
  const sdl = config.supergraphSdl ?? readFileSync(config.supergraphFile, 'utf8');
  const endpoints: { name: string; url: string }[] = [];
  for (const match of sdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)) {
    const [, name, url] = match as unknown as [string, string, string];
    if (GATEWAY_SUBGRAPHS.some((entry) => entry.name === name)) continue;
    endpoints.push({ name, url: config.subgraphUrls[name] ?? url });
  }
  return endpoints;
}
